/* ecdigest site search: the query language of `ecdigest search`, over the static index
   written by `ecdigest build` (ecdigest/site/searchindex.py). No server, no dependency;
   the index is loaded with <script> elements so it also works from files on a disk.
   Results are put on the page with textContent only: article text is never markup. */
(function () {
  "use strict";
  var PAGE = 20;
  var state = { meta: null, zh: null, postings: {}, docs: {}, waiting: {} };
  var base = "search/";
  var root = "";
  var onMeta = [];

  // The index's entry point is loaded after this script (search.html): its folder is where
  // every other index file is, and its parent the site's root.
  window.ECD_SEARCH = window.ECD_SEARCH || {};
  var api = window.ECD_SEARCH;
  api.meta = function (meta) {
    var script = document.querySelector('script[src*="search/meta-"]');
    if (script) {
      base = script.src.replace(/[^/]*$/, "");
      root = base.replace(/search\/$/, "");
    }
    state.meta = meta;
    // The cross-script table comes next (zh-….js): a query is folded once both are here.
    var zh = document.createElement("script");
    zh.src = base + meta.zh;
    zh.onerror = function () {
      state.zh = { chars: new Map() };
      onMeta.splice(0).forEach(function (run) { run(); });
    };
    document.head.appendChild(zh);
  };
  api.zh = function (table) {
    var chars = new Map();
    var list = Array.from(table.chars);
    for (var i = 0; i + 1 < list.length; i += 2) chars.set(list[i], list[i + 1]);
    state.zh = { chars: chars };
    onMeta.splice(0).forEach(function (run) { run(); });
  };
  function whenReady(run) {
    if (state.meta && state.zh) run(); else onMeta.push(run);
  }
  api.postings = function (name, number, grams) { done(name + "/p" + number, grams); };
  api.docs = function (name, number, rows) { done(name + "/d" + number, rows); };

  function done(key, value) {
    var kind = key.indexOf("/p") > 0 ? state.postings : state.docs;
    kind[key] = value;
    (state.waiting[key] || []).forEach(function (resolve) { resolve(value); });
    delete state.waiting[key];
  }

  function load(key) {
    var kind = key.indexOf("/p") > 0 ? state.postings : state.docs;
    if (kind[key]) return Promise.resolve(kind[key]);
    return new Promise(function (resolve, reject) {
      if (state.waiting[key]) { state.waiting[key].push(resolve); return; }
      state.waiting[key] = [resolve];
      var script = document.createElement("script");
      script.src = base + key + ".js";
      script.onerror = function () { reject(new Error("cannot load " + script.src)); };
      document.head.appendChild(script);
    });
  }

  // search.fold: NFKC, case folding, NFKC again; runs of blanks and controls are one space.
  function fold(text) {
    var table = state.meta ? state.meta.fold : {};
    var out = "";
    Array.from(text.normalize("NFKC")).forEach(function (ch) {
      out += Object.prototype.hasOwnProperty.call(table, ch) ? table[ch] : ch.toLowerCase();
    });
    out = out.normalize("NFKC").replace(/[\u0000-\u001f\u007f-\u009f]/g, " ");
    return zhFold(out.split(/\s+/).filter(Boolean).join(" "));
  }

  // zhconv.fold, the cross-script key (zhkey.py's table, zh-….js): each character by its
  // key, one for one. 電商 -> 电商.
  function zhFold(text) {
    var zh = state.zh;
    if (!zh) return text;
    var out = "";
    Array.from(text).forEach(function (ch) { out += zh.chars.has(ch) ? zh.chars.get(ch) : ch; });
    return out;
  }

  function fnv1a(text) {
    var value = 0x811c9dc5;
    for (var i = 0; i < text.length; i++) {
      value ^= text.charCodeAt(i);
      value = Math.imul(value, 0x01000193) >>> 0;
    }
    return value >>> 0;
  }

  function decode(gaps) {
    var docs = [];
    var previous = -1;
    for (var i = 0; i < gaps.length; i++) {
      var code = gaps.codePointAt(i);
      if (code > 0xffff) i++;
      if (code >= 0xd800 + 0x800) code -= 0x800;
      previous += code - 0x30;
      docs.push(previous);
    }
    return docs;
  }

  // The query language of search.parse_query: terms ANDed, "phrases", -excluded, A OR B.
  function parse(text) {
    text = text.normalize("NFKC");
    var tokens = [];
    var i = 0;
    var n = text.length;
    while (i < n) {
      if (/\s/.test(text[i])) { i++; continue; }
      var negated = false;
      if (text[i] === "-" && i + 1 < n && !/\s/.test(text[i + 1])) { negated = true; i++; }
      if (text[i] === '"') {
        var end = text.indexOf('"', i + 1);
        if (end < 0) throw new Error("引号没有配对：" + text.slice(i, i + 30));
        tokens.push([negated, true, text.slice(i + 1, end)]);
        i = end + 1;
        continue;
      }
      var stop = i;
      while (stop < n && !/\s/.test(text[stop])) stop++;
      tokens.push([negated, false, text.slice(i, stop)]);
      i = stop;
    }
    var groups = [];
    var excluded = [];
    var pendingOr = false;
    var lastPositive = false;
    tokens.forEach(function (token) {
      var negated = token[0], quoted = token[1], raw = token[2];
      if (raw === "OR" && !quoted && !negated) {
        if (!lastPositive || pendingOr) throw new Error("OR 要放在两个词之间");
        pendingOr = true;
        return;
      }
      var term = fold(raw);
      if (!term) throw new Error("空的搜索词：" + raw);
      if (negated) {
        if (pendingOr) throw new Error("排除的词不能放在 OR 里：-" + raw);
        excluded.push(term);
        lastPositive = false;
        return;
      }
      if (pendingOr) { groups[groups.length - 1].push(term); pendingOr = false; }
      else groups.push([term]);
      lastPositive = true;
    });
    if (pendingOr) throw new Error("OR 要放在两个词之间");
    if (!groups.length) throw new Error("请至少给一个不排除的词");
    return { groups: groups, excluded: excluded };
  }

  function gramsOf(term) {
    var chars = Array.from(term);
    if (chars.length === 1) return chars;
    var grams = [];
    for (var i = 0; i + 1 < chars.length; i++) grams.push(chars[i] + chars[i + 1]);
    return grams;
  }

  function intersect(a, b) {
    var out = [];
    var i = 0, j = 0;
    while (i < a.length && j < b.length) {
      if (a[i] === b[j]) { out.push(a[i]); i++; j++; }
      else if (a[i] < b[j]) i++;
      else j++;
    }
    return out;
  }

  function union(a, b) {
    var seen = new Set(a);
    b.forEach(function (x) { seen.add(x); });
    return Array.from(seen).sort(function (x, y) { return x - y; });
  }

  // Documents (numbered across segments) whose folded title or body contain the term.
  function termDocs(term) {
    var meta = state.meta;
    var grams = gramsOf(term);
    var offset = 0;
    var parts = meta.segments.map(function (segment) {
      var first = offset;
      offset += segment.docs;
      return Promise.all(grams.map(function (gram) {
        var key = segment.name + "/p" + (fnv1a(gram) % segment.shards);
        return load(key).then(function (shard) {
          return Object.prototype.hasOwnProperty.call(shard, gram) ? decode(shard[gram]) : [];
        });
      })).then(function (lists) {
        var docs = lists.reduce(intersect);
        return docs.map(function (doc) { return doc + first; });
      });
    });
    return Promise.all(parts).then(function (lists) { return [].concat.apply([], lists); });
  }

  function deleted(doc) {
    return state.meta.deleted.some(function (range) { return doc >= range[0] && doc < range[1]; });
  }

  function run(query) {
    var terms = {};
    query.groups.forEach(function (group) { group.forEach(function (t) { terms[t] = true; }); });
    query.excluded.forEach(function (t) { terms[t] = true; });
    var names = Object.keys(terms);
    return Promise.all(names.map(termDocs)).then(function (lists) {
      var byTerm = {};
      names.forEach(function (name, k) { byTerm[name] = lists[k]; });
      var result = null;
      query.groups.forEach(function (group) {
        var docs = group.map(function (t) { return byTerm[t]; }).reduce(union);
        result = result === null ? docs : intersect(result, docs);
      });
      var out = new Set(query.excluded.map(function (t) { return byTerm[t]; }).reduce(union, []));
      return result.filter(function (doc) { return !out.has(doc) && !deleted(doc); });
    });
  }

  // The date of a document's issue: each segment lists where its issues start.
  function dateOf(doc) {
    var offset = 0;
    var segments = state.meta.segments;
    for (var s = 0; s < segments.length; s++) {
      var segment = segments[s];
      if (doc < offset + segment.docs) {
        var local = doc - offset;
        var starts = segment.issues;
        var lo = 0, hi = starts.length - 1;
        while (lo < hi) {
          var mid = (lo + hi + 1) >> 1;
          if (starts[mid][0] <= local) lo = mid; else hi = mid - 1;
        }
        return starts.length ? starts[lo][1] : "";
      }
      offset += segment.docs;
    }
    return "";
  }

  function docRow(doc) {
    var offset = 0;
    var meta = state.meta;
    for (var s = 0; s < meta.segments.length; s++) {
      var segment = meta.segments[s];
      if (doc < offset + segment.docs) {
        var local = doc - offset;
        var key = segment.name + "/d" + Math.floor(local / meta.chunk);
        return load(key).then(function (rows) { return rows[local % meta.chunk]; });
      }
      offset += segment.docs;
    }
    return Promise.reject(new Error("no document " + doc));
  }

  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var form = document.querySelector(".search-form");
  var input = document.getElementById("q");
  var shown = [];
  var more = null;

  function item(row) {
    var li = document.createElement("li");
    li.className = "search-result";
    li.setAttribute("data-article", row[1]);
    var a = document.createElement("a");
    a.href = root + row[0].split("/").map(encodeURIComponent).join("/") + "#" + encodeURIComponent(row[1]);
    a.textContent = row[2];
    var meta = document.createElement("span");
    meta.className = "search-result-meta";
    meta.textContent = [row[3], row[4]].filter(Boolean).join(" · ");
    var excerpt = document.createElement("p");
    excerpt.textContent = row[5] + "…";
    li.appendChild(a);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(meta);
    li.appendChild(excerpt);
    return li;
  }

  function showMore() {
    var next = shown.slice(list.children.length, list.children.length + PAGE);
    return Promise.all(next.map(docRow)).then(function (rows) {
      rows.forEach(function (row) { list.appendChild(item(row)); });
      if (more) { more.remove(); more = null; }
      if (list.children.length < shown.length) {
        more = document.createElement("button");
        more.type = "button";
        more.textContent = "显示更多";
        more.addEventListener("click", showMore);
        list.after(more);
      }
    });
  }

  function search(text) {
    list.textContent = "";
    shown = [];
    if (more) { more.remove(); more = null; }
    if (!text.trim()) { status.textContent = ""; return Promise.resolve(); }
    var query;
    try { query = parse(text); } catch (error) { status.textContent = error.message; return Promise.resolve(); }
    status.textContent = "正在搜索…";
    return run(query).then(function (docs) {
      // Newest issue first (the delta's issues may be of any age, so by their dates).
      var order = docs.map(function (doc) { return [dateOf(doc), doc]; });
      order.sort(function (x, y) { return x[0] < y[0] ? 1 : x[0] > y[0] ? -1 : y[1] - x[1]; });
      shown = order.map(function (pair) { return pair[1]; });
      status.textContent = shown.length ? "找到 " + shown.length + " 篇文章" : "没有找到文章";
      status.setAttribute("data-count", String(shown.length));
      return showMore();
    }).catch(function (error) { status.textContent = "搜索出错：" + error.message; });
  }

  window.ECD_SEARCH.search = search;
  window.ECD_SEARCH.fold = fold;  // what a term is compared in (tests check it against Python)
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "?q=" + encodeURIComponent(text));
    }
    whenReady(function () { search(text); });
  });
  var initial = new URLSearchParams(window.location.search).get("q");
  if (initial) { input.value = initial; whenReady(function () { search(initial); }); }
})();
