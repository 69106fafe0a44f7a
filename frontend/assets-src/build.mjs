// Builds frontend/static from node_modules: compiled CSS, GOV.UK Frontend's script and assets, Chart.js.
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import * as sass from "sass";

const out = "../static";
mkdirSync(`${out}/css`, { recursive: true });
mkdirSync(`${out}/js`, { recursive: true });
const result = sass.compile("internmatch.scss", { style: "compressed", loadPaths: ["."], quietDeps: true, silenceDeprecations: ["import", "global-builtin", "color-functions", "mixed-decls", "slash-div"] });
writeFileSync(`${out}/css/internmatch.css`, result.css);
cpSync("node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js", `${out}/js/govuk-frontend.min.js`);
cpSync("node_modules/govuk-frontend/package.json", `${out}/govuk/package.json`);
cpSync("node_modules/chart.js/dist/chart.umd.min.js", `${out}/js/chart.umd.min.js`);
cpSync("node_modules/chart.js/LICENSE.md", `${out}/js/chart.js-LICENSE.md`);
console.log("built", `${out}/css/internmatch.css`, result.css.length, "bytes");
