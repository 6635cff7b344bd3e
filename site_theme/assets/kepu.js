/* kepu-calendar: the only script of our own. Everything works without it; it adds the 大字
   toggle, copy and print buttons, and everything that depends on "now" (SPEC "Words visitors
   see"): time states, 报名已截止, the listing regrouped by the visitor's date with quick date
   filters, 离我最近, and the home page's 今天 / 本周末 / 即将开始. "Now" is the visitor's clock,
   never the build's, so two builds of the same data stay byte-identical. */
(function () {
  "use strict";
  var root = document.documentElement;
  var DAY = 86400000;
  var WEEKDAY = "日一二三四五六";

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
      /* the subscribe box's button copies the address shown beside it (not written twice) */
      var field = b.previousElementSibling;
      var text = b.getAttribute("data-copy") || (field && field.value);
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

  /* -- time: sessions and the visitor's days ------------------------------------------------- */

  var now = Date.now();

  /* "2023-09-16T09:00+08:00/2023-09-16T17:00+08:00 …" → [[start ms, end ms], …] */
  function sessionsOf(el) {
    return (el.getAttribute("data-sessions") || "").split(" ").filter(Boolean).map(function (s) {
      var p = s.split("/");
      return [Date.parse(p[0]), Date.parse(p[1])];
    }).filter(function (s) { return !isNaN(s[0]) && !isNaN(s[1]); });
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  /* the visitor's local day of an instant, as YYYY-MM-DD */
  function dayKey(t) { var d = new Date(t); return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); }
  /* local midnight starting the day `t` falls in, plus `add` days (DST-safe: built from fields) */
  function midnight(t, add) { var d = new Date(t); return new Date(d.getFullYear(), d.getMonth(), d.getDate() + (add || 0)).getTime(); }
  function keyStart(key) { var p = key.split("-"); return new Date(+p[0], +p[1] - 1, +p[2]).getTime(); }
  /* the build's wording (generator/outputs/text.py date_text): 2023年9月16日（星期六） */
  function dateText(key) {
    var d = new Date(keyStart(key));
    return d.getFullYear() + "年" + (d.getMonth() + 1) + "月" + d.getDate() + "日（星期" + WEEKDAY[d.getDay()] + "）";
  }

  var today = midnight(now, 0);
  var tomorrow = midnight(now, 1);

  /* What "now" means for one activity. */
  function info(el, index) {
    var ss = sessionsOf(el);
    var last = ss.length ? ss[ss.length - 1][1] : 0;
    var running = ss.some(function (s) { return s[0] <= now && now < s[1]; });
    var next = null;  /* the first session not yet over */
    for (var i = 0; i < ss.length; i++) if (ss[i][1] > now) { next = ss[i]; break; }
    return { el: el, index: index, sessions: ss, ended: !ss.length || now >= last, running: running, next: next,
             cancelled: el.classList.contains("kepu-item--cancelled") || el.classList.contains("kepu-activity--cancelled") };
  }

  /* 已结束 / 进行中 / 今天 / 明天 (words, the colour only repeats them) */
  function stateWord(it) {
    if (it.ended) return ["已结束", "ended"];
    if (it.cancelled) return null;  /* its 已取消 badge says all */
    if (it.running) return ["进行中", "running"];
    if (it.next && it.next[0] < tomorrow) return ["今天", "today"];
    if (it.next && it.next[0] < midnight(now, 2)) return ["明天", "tomorrow"];
    return null;
  }

  function markState(it) {
    var span = it.el.querySelector("[data-kepu-state]");
    if (!span) return;
    var w = stateWord(it);
    span.textContent = w ? w[0] : "";
    span.className = "kepu-state" + (w ? " kepu-state--" + w[1] : "");
  }

  /* -- activity page: state and registration ------------------------------------------------- */

  var activity = document.querySelector("[data-kepu-activity]");
  if (activity) {
    var act = info(activity, 0);
    markState(act);
    var reg = document.querySelector("[data-kepu-register]");
    if (reg) {
      var closes = Date.parse(reg.getAttribute("data-closes") || "");
      if (act.ended || (!isNaN(closes) && now >= closes)) {
        reg.textContent = "";
        var closed = document.createElement("span");
        closed.className = "kepu-closed";
        closed.textContent = "报名已截止";
        reg.appendChild(closed);
      }
    }
  }

  /* -- listings: campaign and district pages ------------------------------------------------- */

  var listing = document.querySelector(".kepu-listing");
  var form = document.querySelector("[data-kepu-filters]");
  var nearBox = document.querySelector("[data-kepu-near]");
  if (listing && listing.querySelector(".kepu-item")) {
    var items = Array.prototype.map.call(listing.querySelectorAll("li.kepu-item"), info);
    items.forEach(markState);
    var empty = listing.querySelector(".kepu-empty");
    var count = form ? form.querySelector(".kepu-filter-count") : null;
    var byDistance = false;
    var distance = {};  /* index → metres */

    /* the script's own parts of the listing, rebuilt on every change */
    var upcomingBox = document.createElement("div");
    upcomingBox.className = "kepu-upcoming";
    var noneNote = document.createElement("p");
    noneNote.className = "kepu-hint kepu-none-upcoming";
    noneNote.textContent = "近期没有即将开始的活动。";
    var endedToggle = document.createElement("button");
    endedToggle.type = "button";
    endedToggle.className = "md-button kepu-ended-toggle";
    endedToggle.setAttribute("aria-expanded", "false");
    var endedBox = document.createElement("div");
    endedBox.className = "kepu-ended";
    endedBox.id = "kepu-ended";
    endedBox.hidden = true;
    endedToggle.setAttribute("aria-controls", endedBox.id);
    endedToggle.addEventListener("click", function () {
      endedBox.hidden = !endedBox.hidden;
      endedToggle.setAttribute("aria-expanded", endedBox.hidden ? "false" : "true");
      endedToggle.textContent = (endedBox.hidden ? "显示" : "收起") + "已结束的活动（" + endedToggle.getAttribute("data-n") + " 项）";
    });
    listing.querySelectorAll(".kepu-day").forEach(function (s) { s.remove(); });
    listing.insertBefore(upcomingBox, empty);
    listing.insertBefore(noneNote, empty);
    listing.insertBefore(endedToggle, empty);
    listing.insertBefore(endedBox, empty);
    var stash = document.createElement("ul");  /* entries no filter shows */
    stash.hidden = true;
    listing.appendChild(stash);

    var params = new URLSearchParams(window.location.search);
    var filterNames = ["district", "category", "audience", "mode"];
    if (form) {
      filterNames.forEach(function (n) { var el = form.elements[n]; if (el && params.has(n)) el.value = params.get(n); });
      var w = params.get("when") || "";
      form.querySelectorAll("input[name=when]").forEach(function (r) { r.checked = r.value === w; });
      if (form.elements.day && params.get("day")) form.elements.day.value = params.get("day");
    }

    var wanted = function () {
      var want = {};
      if (!form) return want;
      filterNames.forEach(function (n) { var el = form.elements[n]; if (el && el.value) want[n] = el.value; });
      var r = form.querySelector("input[name=when]:checked");
      if (form.elements.day && form.elements.day.value) want.day = form.elements.day.value;
      else if (r && r.value) want.when = r.value;
      return want;
    };

    /* [from, to) in ms for a date filter, or null for all dates */
    var range = function (want) {
      if (want.day) { var s = keyStart(want.day); return isNaN(s) ? null : [s, midnight(s, 1), true]; }
      var dow = new Date(now).getDay();
      switch (want.when) {
        case "today": return [today, tomorrow];
        case "tomorrow": return [tomorrow, midnight(now, 2)];
        /* 本周末: the coming Saturday and Sunday, this one when today is one of them */
        case "weekend": var sat = dow === 0 ? midnight(now, -1) : midnight(now, 6 - dow); return [sat, midnight(sat, 2)];
        case "week": return [today, midnight(now, 7)];
      }
      return null;
    };

    var fits = function (it, want) {
      var el = it.el;
      return (!want.district || el.dataset.district === want.district) &&
        (!want.category || el.dataset.category.split(" ").indexOf(want.category) >= 0) &&
        (!want.audience || el.dataset.audience.split(" ").indexOf(want.audience) >= 0) &&
        (!want.mode || el.dataset.mode === want.mode || el.dataset.mode === "hybrid");
    };

    /* the session an entry is listed by: the first in the range (not yet over, for a quick
       filter), or its next session; null when it does not belong to the range */
    var placing = function (it, r) {
      for (var i = 0; i < it.sessions.length; i++) {
        var s = it.sessions[i];
        if (r && (s[1] <= r[0] || s[0] >= r[1])) continue;
        if (r && !r[2] && s[1] <= now) continue;
        if (!r && s[1] <= now) continue;
        return s;
      }
      return null;
    };

    /* a day's section (key = YYYY-MM-DD, headed as the build does) or one headed by `title` */
    var section = function (key, parent, title) {
      var sec = document.createElement("section");
      sec.className = "kepu-day" + (title ? " kepu-day--near" : "");
      if (key) sec.setAttribute("data-date", key);
      var h = document.createElement("h2");
      h.textContent = title || dateText(key);
      var ul = document.createElement("ul");
      ul.className = "kepu-items";
      sec.appendChild(h);
      sec.appendChild(ul);
      parent.appendChild(sec);
      return ul;
    };

    var far = function (it) {
      var d = distance[it.index];
      return d === undefined ? (it.el.dataset.mode === "online" ? 2e9 : 1e9) : d;
    };

    /* entries grouped under days, days ascending, in time order within a day */
    var byDay = function (list, parent, keyOf) {
      var groups = {};
      list.forEach(function (e) { var k = keyOf(e); (groups[k] = groups[k] || []).push(e); });
      var keys = Object.keys(groups).sort();
      keys.forEach(function (k) {
        var ul = section(k, parent);
        groups[k].sort(function (a, b) { return a.at - b.at || a.it.index - b.it.index; });
        groups[k].forEach(function (e) { ul.appendChild(e.it.el); });
      });
    };

    var apply = function () {
      var want = wanted();
      var r = range(want);
      var up = [], gone = [];
      items.forEach(function (it) {
        it.el.hidden = false;
        if (!fits(it, want)) { it.el.hidden = true; stash.appendChild(it.el); return; }
        var s = placing(it, r);
        if (s) up.push({ it: it, s: s });
        else if (!r && it.ended) gone.push(it);
        else { it.el.hidden = true; stash.appendChild(it.el); }
      });
      upcomingBox.textContent = "";
      endedBox.textContent = "";
      if (byDistance) {
        var ul = section("", upcomingBox, "按距离排列（近的在前）");
        up.sort(function (a, b) { return far(a.it) - far(b.it) || a.s[0] - b.s[0]; })
          .forEach(function (e) { ul.appendChild(e.it.el); });
      } else {
        /* a running entry is listed under today; a day starts at local midnight */
        byDay(up, upcomingBox, function (e) {
          var key = dayKey(Math.max(e.s[0], r ? r[0] : now));
          e.at = Math.max(e.s[0], keyStart(key));  /* running and all-day entries first */
          return key;
        });
      }
      /* ended entries: after the upcoming ones, collapsed, in date order (a printed notice of
         a past programme reads as built) */
      if (byDistance) {
        var ul2 = section("", endedBox, "已结束");
        gone.sort(function (a, b) { return far(a) - far(b); }).forEach(function (it) { ul2.appendChild(it.el); });
      } else {
        byDay(gone.map(function (it) { return { it: it, at: it.sessions.length ? it.sessions[0][0] : 0 }; }),
          endedBox, function (e) { return dayKey(e.at); });
      }
      endedToggle.setAttribute("data-n", gone.length);
      endedToggle.textContent = (endedBox.hidden ? "显示" : "收起") + "已结束的活动（" + gone.length + " 项）";
      endedToggle.hidden = !gone.length;
      endedBox.hidden = endedBox.hidden || !gone.length;
      noneNote.hidden = up.length > 0 || !gone.length;
      var n = up.length + gone.length;
      if (empty) empty.hidden = n > 0;
      if (count) count.textContent = Object.keys(want).length ? "符合条件：" + up.length + " 项活动" + (gone.length ? "，另有 " + gone.length + " 项已结束" : "") : "";
      var q = new URLSearchParams(want).toString();
      history.replaceState(null, "", (q ? "?" + q : window.location.pathname) + window.location.hash);
    };

    if (form) {
      form.addEventListener("change", function (e) {
        /* a quick filter and a picked day exclude each other */
        if (e.target.name === "when" && form.elements.day) form.elements.day.value = "";
        if (e.target.name === "day" && e.target.value) {
          form.querySelectorAll("input[name=when]").forEach(function (x) { x.checked = x.value === ""; });
        }
        apply();
      });
      form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
      form.hidden = false;
    }
    apply();

    /* -- 离我最近 ---------------------------------------------------------------------------- */
    if (nearBox && navigator.geolocation) {
      var nearButton = nearBox.querySelector("button");
      var note = nearBox.querySelector(".kepu-near__note");
      nearButton.setAttribute("aria-pressed", "false");
      nearBox.hidden = false;
      var showDistances = function (on) {
        items.forEach(function (it) {
          var span = it.el.querySelector("[data-kepu-distance]");
          if (!span) return;
          var d = distance[it.index];
          span.hidden = !on || d === undefined;
          span.textContent = d === undefined ? "" : "距离 " + distanceText(d);
        });
      };
      nearButton.addEventListener("click", function () {
        if (byDistance) {  /* back to date order */
          byDistance = false;
          nearButton.setAttribute("aria-pressed", "false");
          note.textContent = "";
          showDistances(false);
          apply();
          return;
        }
        note.textContent = "正在获取您的位置…";
        /* the position stays in this browser: it is only compared with the venues on this page */
        navigator.geolocation.getCurrentPosition(function (pos) {
          var me = wgs2gcj(pos.coords.latitude, pos.coords.longitude);
          items.forEach(function (it) {
            var lat = parseFloat(it.el.dataset.lat), lng = parseFloat(it.el.dataset.lng);
            if (!isNaN(lat) && !isNaN(lng) && it.el.dataset.mode !== "online") distance[it.index] = haversine(me[0], me[1], lat, lng);
          });
          byDistance = true;
          nearButton.setAttribute("aria-pressed", "true");
          note.textContent = "已按距离排列，再按一次恢复按日期排列。";
          showDistances(true);
          apply();
        }, function (err) {
          note.textContent = err && err.code === 1
            ? "没有得到位置权限，仍按日期排列。可在浏览器设置中允许本网站使用位置。"
            : "暂时无法获取您的位置，仍按日期排列。";
        }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 });
      });
    }
  }

  /* -- distances -------------------------------------------------------------------------------- */

  /* WGS-84 → GCJ-02, the public "eviltransform" formula (Krasovsky 1940 ellipsoid); positions
     outside mainland China are not shifted. Hand-written: no library for a dozen lines. */
  function outOfChina(lat, lng) { return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271; }
  function tLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
    return r;
  }
  function tLng(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
    return r;
  }
  function wgs2gcj(lat, lng) {
    if (outOfChina(lat, lng)) return [lat, lng];
    var a = 6378245.0, ee = 0.00669342162296594323;
    var dLat = tLat(lng - 105, lat - 35), dLng = tLng(lng - 105, lat - 35);
    var radLat = lat / 180 * Math.PI;
    var magic = Math.sin(radLat);
    magic = 1 - ee * magic * magic;
    var sq = Math.sqrt(magic);
    dLat = (dLat * 180) / ((a * (1 - ee)) / (magic * sq) * Math.PI);
    dLng = (dLng * 180) / (a / sq * Math.cos(radLat) * Math.PI);
    return [lat + dLat, lng + dLng];
  }
  function haversine(lat1, lng1, lat2, lng2) {
    var R = 6371000, rad = Math.PI / 180;
    var dLat = (lat2 - lat1) * rad, dLng = (lng2 - lng1) * rad;
    var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLng / 2) * Math.sin(dLng / 2);
    return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
  }
  /* 800 米, 1.2 公里, 35 公里 */
  function distanceText(m) {
    if (m < 1000) return Math.max(10, Math.round(m / 10) * 10) + " 米";
    if (m < 100000) return (m / 1000).toFixed(1) + " 公里";
    return Math.round(m / 1000) + " 公里";
  }

  /* -- home page: 今天, 本周末, 即将开始, campaign cards ---------------------------------------- */

  document.querySelectorAll(".kepu-campaign-card").forEach(function (card) {
    var span = card.querySelector("[data-kepu-state]");
    var t = dayKey(now), s = card.getAttribute("data-start"), e = card.getAttribute("data-end");
    if (!span || !s || !e) return;
    var w = t < s ? ["即将开始", "soon"] : t > e ? ["已结束", "ended"] : ["进行中", "running"];
    span.textContent = w[0];
    span.className = "kepu-campaign-card__state kepu-state kepu-state--" + w[1];
  });

  var nowBox = document.querySelector("[data-kepu-now]");
  var tpl = document.querySelector("template[data-kepu-upcoming]");
  if (nowBox && tpl) {
    var pool = Array.prototype.map.call(tpl.content.querySelectorAll("li.kepu-item"), info);
    var dow = new Date(now).getDay();
    var sat = dow === 0 ? midnight(now, -1) : midnight(now, 6 - dow);
    /* the first session of an entry overlapping [from, to) that is not over yet */
    var within = function (it, from, to) {
      for (var i = 0; i < it.sessions.length; i++) {
        var s = it.sessions[i];
        if (s[1] > now && s[1] > from && s[0] < to) return s;
      }
      return null;
    };
    var fill = function (box, list, emptyText) {
      box.textContent = "";
      if (!list.length) {
        var p = document.createElement("p");
        p.className = "kepu-hint";
        p.textContent = emptyText;
        box.appendChild(p);
        return;
      }
      var ul = document.createElement("ul");
      ul.className = "kepu-items";
      list.sort(function (a, b) { return a.s[0] - b.s[0] || a.it.index - b.it.index; }).forEach(function (e) {
        var li = e.it.el.cloneNode(true);
        ul.appendChild(li);
        markState(info(li, e.it.index));
      });
      box.appendChild(ul);
    };
    var inToday = {};
    var todays = [], weekend = [], soon = [];
    pool.forEach(function (it) {
      if (it.cancelled) return;
      var s = within(it, today, tomorrow);
      if (s) { todays.push({ it: it, s: s }); inToday[it.index] = 1; }
    });
    pool.forEach(function (it) {
      if (it.cancelled || inToday[it.index]) return;
      var s = within(it, sat, midnight(sat, 2));
      if (s) weekend.push({ it: it, s: s });
      if (it.next) soon.push({ it: it, s: it.next });
    });
    soon.sort(function (a, b) { return a.s[0] - b.s[0] || a.it.index - b.it.index; });
    soon = soon.slice(0, 10);
    var none = nowBox.querySelector("[data-kepu-none]");
    var anything = todays.length || soon.length;
    Array.prototype.forEach.call(nowBox.children, function (c) { if (c !== none) c.hidden = !anything; });
    if (none) none.hidden = !!anything;
    if (anything) {
      fill(nowBox.querySelector("[data-kepu-today]"), todays, "今天没有活动。");
      fill(nowBox.querySelector("[data-kepu-weekend]"), weekend, dow === 6 || dow === 0 ? "本周末没有其他活动。" : "本周末没有活动。");
      fill(nowBox.querySelector("[data-kepu-soon]"), soon, "近期没有其他即将开始的活动。");
    }
    nowBox.hidden = !anything && !none;
  }
})();
