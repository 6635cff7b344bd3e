/* kepu-calendar search: reads the chunked index written by generator/search.py.
   The tokeniser and hash must match that file. A query downloads the manifest, one shard per
   term and the document shards of the first results, never the whole index. */
(function () {
  "use strict";
  var form = document.querySelector("[data-kepu-search]");
  var box = document.getElementById("kepu-search-results");
  if (!form || !box) return;

  var cfg = document.getElementById("__config");
  var base = (cfg ? JSON.parse(cfg.textContent).base : "..").replace(/\/$/, "") + "/";
  var TOKEN = /[\u3400-\u9fff\uf900-\ufaff]+|[a-z0-9]+/g;
  var PAGE = 20;
  var cache = {};

  function fetchJson(path) {
    if (!cache[path]) {
      cache[path] = fetch(base + path).then(function (r) {
        if (!r.ok) throw new Error(path + " " + r.status);
        return r.json();
      });
    }
    return cache[path];
  }

  function terms(text) {
    var out = {};
    (text.normalize("NFKC").toLowerCase().match(TOKEN) || []).forEach(function (run) {
      if (run < "\u3400") { out[run] = 1; return; }
      if (run.length === 1) { out[run] = 1; return; }
      for (var i = 0; i + 1 < run.length; i++) out[run.slice(i, i + 2)] = 1;
    });
    return Object.keys(out);
  }

  function shardOf(term, shards) {
    var h = 0x811c9dc5;
    for (var i = 0; i < term.length; i++) {
      h ^= term.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h % shards;
  }

  function decode(list) {
    var ids = [], prev = 0;
    list.split(",").forEach(function (gap) { prev += parseInt(gap, 36); ids.push(prev); });
    return ids;
  }

  function intersect(a, b) {
    var out = [], i = 0, j = 0;
    while (i < a.length && j < b.length) {
      if (a[i] === b[j]) { out.push(a[i]); i++; j++; } else if (a[i] < b[j]) i++; else j++;
    }
    return out;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;  // text only: nothing from the index is parsed as HTML
    return e;
  }

  function say(text) { box.textContent = ""; box.appendChild(el("p", "kepu-search__note", text)); }

  function show(query, ids, manifest, from) {
    if (from === 0) box.textContent = "";
    var old = box.querySelector(".kepu-search__more");
    if (old) old.remove();
    if (!ids.length) { say("没有找到与“" + query + "”有关的活动。可以换个词，或少写几个字。"); return; }
    if (from === 0) box.appendChild(el("p", "kepu-search__note", "找到 " + ids.length + " 个结果"));
    var slice = ids.slice(from, from + PAGE);
    var per = manifest.docsPerShard;
    var shards = {};
    slice.forEach(function (id) { shards[Math.floor(id / per)] = 1; });
    Promise.all(Object.keys(shards).map(function (k) {
      return fetchJson("search/d/" + Number(k).toString(16) + ".json").then(function (docs) { return [k, docs]; });
    })).then(function (parts) {
      var byShard = {};
      parts.forEach(function (p) { byShard[p[0]] = p[1]; });
      var list = box.querySelector(".kepu-search__list") || box.appendChild(el("ul", "kepu-search__list"));
      // within a page and a group (upcoming, ended, pages), titles holding the whole query come
      // first (pairs may match apart)
      var whole = query.normalize("NFKC").toLowerCase();
      var docs = slice.map(function (id, k) {
        var d = byShard[Math.floor(id / per)][id % per];
        return { d: d, g: groupOf(id), k: k, miss: d[1].toLowerCase().indexOf(whole) < 0 ? 1 : 0 };
      }).sort(function (a, b) { return a.g - b.g || a.miss - b.miss || a.k - b.k; });
      docs.forEach(function (x) {
        var d = x.d;
        var li = el("li", "kepu-search__item");
        var a = el("a", "kepu-search__link", (d[5] === "cancelled" ? "【已取消】" : x.g === 1 ? "【已结束】" : "") + d[1]);
        a.href = base + d[0];
        li.appendChild(a);
        li.appendChild(el("span", "kepu-search__meta", d[2] + " · " + d[3] + " · " + d[4]));
        list.appendChild(li);
      });
      if (from + PAGE < ids.length) {
        var more = el("button", "md-button kepu-search__more", "显示更多");
        more.type = "button";
        more.addEventListener("click", function () { show(query, ids, manifest, from + PAGE); });
        box.appendChild(more);
      }
    });
  }

  /* Activities come first in the index, by the end of their last session; which of them are
     over depends on the visitor's day: upcoming ones soonest first, then ended ones most recent
     first, then campaign and district pages (generator/outputs/search.py, documents()). */
  var today = (function () {
    var d = new Date(), p = function (n) { return (n < 10 ? "0" : "") + n; };
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate());
  })();
  var groupOf = function () { return 0; };
  function rank(ids, manifest) {
    var acts = manifest.activities === undefined ? 0 : manifest.activities;
    var boundary = acts;
    (manifest.ends || []).some(function (b) { if (b[0] >= today) { boundary = b[1]; return true; } return false; });
    groupOf = function (id) { return id >= acts ? 2 : id >= boundary ? 0 : 1; };
    var up = [], gone = [], pages = [];
    ids.forEach(function (id) { [up, gone, pages][groupOf(id)].push(id); });
    return up.concat(gone.reverse(), pages);
  }

  function search(query) {
    var wanted = terms(query);
    if (!wanted.length) { box.textContent = ""; return; }
    say("正在搜索…");
    fetchJson("search/manifest.json").then(function (manifest) {
      var stop = {};
      manifest.stop.forEach(function (t) { stop[t] = 1; });
      var useful = wanted.filter(function (t) { return !stop[t]; });
      if (!useful.length) { say("“" + query + "”太常见了，请多写几个字，比如活动名称或地点。"); return; }
      return Promise.all(useful.map(function (t) {
        return fetchJson("search/t/" + shardOf(t, manifest.shards).toString(16) + ".json").then(function (s) {
          return s[t] ? decode(s[t]) : [];
        });
      })).then(function (lists) {
        lists.sort(function (a, b) { return a.length - b.length; });
        show(query, rank(lists.reduce(intersect), manifest), manifest, 0);
      });
    }).catch(function () { say("搜索暂时不能使用，请稍后再试。"); });
  }

  var input = form.querySelector("input[name=q]");
  var q = new URLSearchParams(window.location.search).get("q") || "";
  input.value = q;
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var query = input.value.trim();
    history.replaceState(null, "", query ? "?q=" + encodeURIComponent(query) : window.location.pathname);
    search(query);
  });
  if (q) search(q);
})();
