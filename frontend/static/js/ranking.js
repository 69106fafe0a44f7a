// Drag and drop on the NGO's ranking page. Progressive enhancement only: each applicant's card holds a
// "Move to position" form (the CSS is compiled from assets-src, so the few drag styles are set here) that works without this script; dropping a card fills in that form and sends it.
(function () {
  "use strict";
  var list = document.querySelector("[data-im-ranking]");
  if (!list) { return; }
  var cards = Array.prototype.slice.call(list.querySelectorAll("li[data-choice]"));
  if (cards.length < 2) { return; }
  var hint = document.querySelector(".im-drag-hint");
  if (hint) { hint.hidden = false; }
  var dragged = null;

  function cardAt(target) {
    while (target && target !== list) {
      if (target.nodeName === "LI" && target.hasAttribute("data-choice")) { return target; }
      target = target.parentNode;
    }
    return null;
  }

  cards.forEach(function (card) {
    card.setAttribute("draggable", "true");
    card.style.cursor = "move";
    card.addEventListener("dragstart", function (event) {
      dragged = card;
      card.style.opacity = "0.5";
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.getAttribute("data-choice"));
    });
    card.addEventListener("dragend", function () {
      card.style.opacity = "";
      cards.forEach(function (c) { c.style.outline = ""; });
    });
  });

  list.addEventListener("dragover", function (event) {
    var over = cardAt(event.target);
    if (!dragged || !over) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    cards.forEach(function (c) { c.style.outline = (c === over && c !== dragged) ? "3px solid #0b5d5b" : ""; });
  });

  list.addEventListener("drop", function (event) {
    var over = cardAt(event.target);
    if (!dragged || !over) { return; }
    event.preventDefault();
    if (over === dragged) { return; }
    var form = dragged.querySelector("form.im-move-to");
    var position = form && form.querySelector("input[name=position]");
    if (!position) { return; }
    position.value = String(cards.indexOf(over) + 1);
    form.submit();
  });
})();
