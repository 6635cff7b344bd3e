/* kepu-calendar: the only script of our own. Everything works without it; it adds the 大字
   toggle, in-place filters with shareable URLs, copy buttons and "today / this week" on the
   home page (which depend on the visitor's date, so they cannot be built in). */
(function () {
  "use strict";
  var root = document.documentElement;

  function setLarge(on) {
    root.classList.toggle("kepu-large", on);
    try { localStorage.setItem("kepu-large", on ? "1" : "0"); } catch (e) { /* private mode */ }
    document.querySelectorAll(".kepu-large-toggle").forEach(function (b) {
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }
  document.querySelectorAll(".kepu-large-toggle").forEach(function (b) {
    b.setAttribute("aria-pressed", root.classList.contains("kepu-large") ? "true" : "false");
    b.addEventListener("click", function () { setLarge(!root.classList.contains("kepu-large")); });
  });

  document.querySelectorAll(".kepu-copy").forEach(function (b) {
    b.addEventListener("click", function () {
      var text = b.getAttribute("data-copy");
      var done = function () { b.textContent = "已复制"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { window.prompt("请复制：", text); });
      } else {
        window.prompt("请复制：", text);
      }
    });
  });

  /* no inline handlers anywhere in the site (a page with none is easy to check for injected ones) */
  document.querySelectorAll(".kepu-print").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });

  /* filters: each state is a URL such as ?district=wujin&mode=online */
  var form = document.querySelector("[data-kepu-filters]");
  if (form) {
    var listing = document.querySelector(".kepu-listing");
    var count = form.querySelector(".kepu-filter-count");
    var params = new URLSearchParams(window.location.search);
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name && params.has(el.name)) el.value = params.get(el.name);
    });
    var apply = function () {
      var want = {};
      Array.prototype.forEach.call(form.elements, function (el) { if (el.name && el.value) want[el.name] = el.value; });
      var shown = {};
      var n = 0;
      listing.querySelectorAll(".kepu-day").forEach(function (day) {
        var any = false;
        day.querySelectorAll(".kepu-item").forEach(function (item) {
          var ok = (!want.district || item.dataset.district === want.district) &&
            (!want.category || item.dataset.category.split(" ").indexOf(want.category) >= 0) &&
            (!want.audience || item.dataset.audience.split(" ").indexOf(want.audience) >= 0) &&
            (!want.mode || item.dataset.mode === want.mode || item.dataset.mode === "hybrid");
          item.hidden = !ok;
          if (ok) { any = true; shown[item.querySelector("a").getAttribute("href")] = 1; }
        });
        day.hidden = !any;
      });
      n = Object.keys(shown).length;
      count.textContent = Object.keys(want).length ? "符合条件：" + n + " 项活动" : "";
      listing.querySelector(".kepu-empty").hidden = n > 0;
      var q = new URLSearchParams(want).toString();
      history.replaceState(null, "", q ? "?" + q : window.location.pathname);
    };
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
    form.hidden = false;
    apply();
  }

  /* home page: the lists by the visitor's date are being rebuilt on data-sessions (issue 12) */
})();
