// Builds frontend/static from node_modules: compiled CSS, GOV.UK Frontend's script and assets, Chart.js, and
// Swagger UI for /docs (its start-up script, static/swagger/init.js, is ours: the CSP allows no inline script).
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import * as sass from "sass";

const out = "../static";
mkdirSync(`${out}/css`, { recursive: true });
mkdirSync(`${out}/js`, { recursive: true });
mkdirSync(`${out}/swagger`, { recursive: true });
const result = sass.compile("internmatch.scss", { style: "compressed", loadPaths: ["."], quietDeps: true, silenceDeprecations: ["import", "global-builtin", "color-functions", "mixed-decls", "slash-div"] });
writeFileSync(`${out}/css/internmatch.css`, result.css);
cpSync("node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js", `${out}/js/govuk-frontend.min.js`);
cpSync("node_modules/govuk-frontend/package.json", `${out}/govuk/package.json`);
cpSync("node_modules/chart.js/dist/chart.umd.min.js", `${out}/js/chart.umd.min.js`);
cpSync("node_modules/chart.js/LICENSE.md", `${out}/js/chart.js-LICENSE.md`);
for (const name of ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE", "NOTICE"]) {
  cpSync(`node_modules/swagger-ui-dist/${name}`, `${out}/swagger/${name}`);
}
console.log("built", `${out}/css/internmatch.css`, result.css.length, "bytes");
