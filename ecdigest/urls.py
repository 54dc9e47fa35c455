"""One URL cleaner for every place a URL is printed: tracking parameters out, WeChat
article links in their stable form.

`clean_url(url)` is what the exporters print (feeds, email, WeChat, `show`) and what
`validate --fix` writes back (warning W501). It only removes query parameters (and the
fragment of a WeChat article link); it never adds, reorders or re-encodes anything else,
so a URL with nothing to clean comes back as the same string.

WeChat article links (`mp.weixin.qq.com`), the form DIYgod/RSSHub's `normalizeUrl`
(lib/utils/wechat-mp.ts) keeps:
- `/s?__biz=…&mid=…&idx=…&sn=…` is the permanent link: those four parameters alone, in
  that order (`appmsgid`/`itemidx`/`sign` are older names of mid/idx/sn); everything else
  (`chksm`, `scene`, `mpshare`, `srcid`, `sharer_*`, `exportkey`, `pass_ticket`, `clicktime`,
  `enterid`, …) and the fragment (`#rd`, `#wechat_redirect`) are per-share noise;
- `/s/SHORTCODE` is stable by itself: its whole query and fragment go;
- `/s?src=…&timestamp=…&ver=…&signature=…` is a temporary (Sogou) link that expires: it
  keeps those four; cleaning cannot make it permanent (validate says so).

Tracking parameters elsewhere: ClearURLs' rules (github.com/ClearURLs/Rules, data.min.json,
commit 9317c06 of 2025-07-29), as data below: the `globalRules` names that apply to every
site (its "referralMarketing" `ref` rules are left out: on many sites `ref` is content),
and the provider rules of the Chinese platforms this newsletter links to. Each rule is a
regular expression that must match a parameter's whole (case-insensitive) name, as
ClearURLs applies them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit, urlunsplit

# `dataclasses` costs ~7 ms of start-up: records.py makes the same classes without it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from dataclasses import dataclass as record
else:
    from .records import record

# ClearURLs globalRules (the `(?:%3F)?` prefix, for a `?` escaped into a parameter name, is
# handled by decoding names before matching).
GLOBAL_RULES: tuple[str, ...] = (
    r"utm(?:_[a-z_]*)?",
    r"mtm(?:_[a-z_]*)?",
    r"ga_[a-z_]+",
    r"yclid",
    r"_openstat",
    r"fb_action_(?:types|ids)",
    r"fb_(?:source|ref)",
    r"fbclid",
    r"action_(?:object|type|ref)_map",
    r"gs_l",
    r"mkt_tok",
    r"hmb_(?:campaign|medium|source)",
    r"gclid",
    r"srsltid",
    r"otm_[a-z_]*",
    r"cmpid",
    r"os_ehash",
    r"_ga",
    r"_gl",
    r"__twitter_impression",
    r"wt_?z?mc",
    r"wtrid",
    r"[a-z]?mc",
    r"dclid",
    r"Echobox",
    r"spm",
    r"vn(?:_[a-z]*)+",
    r"tracking_source",
    r"ceneo_spo",
    r"itm_(?:campaign|medium|source)",
    r"__hsfp",
    r"__hssc",
    r"__hstc",
    r"_hsenc",
    r"__s",
    r"hsCtaTracking",
    r"mc_(?:eid|cid|tc)",
    r"ml_subscriber",
    r"ml_subscriber_hash",
    r"msclkid",
    r"oly_anon_id",
    r"oly_enc_id",
    r"rb_clickid",
    r"s_cid",
    r"vero_conv",
    r"vero_id",
    r"wickedid",
    r"twclid",
)

# host suffix -> parameter rules (ClearURLs providers, same data file), plus WeChat's share
# parameters for its pages other than articles (articles are handled whole, see above).
PROVIDER_RULES: dict[str, tuple[str, ...]] = {
    "taobao.com": (
        "price", "sourceType", "suid", "ut_sk", "un", "share_crt_v", "sp_tk", "cpp", "shareurl",
        "short_name", "app", "scm[_a-z-]*", "pvid", "algo_expid", "algo_pvid", "ns", "abbucket",
        "ali_refid", "ali_trackid", "acm", "utparam", "pos", "abtest", "trackInfo", "utkn", "scene",
        "mytmenu", "turing_bucket", "lygClk", "impid", "bftTag", "bftRwd", "spm", "_u",
    ),
    "tmall.com": (
        "price", "sourceType", "suid", "ut_sk", "un", "share_crt_v", "sp_tk", "cpp", "shareurl",
        "short_name", "app", "scm[_a-z-]*", "pvid", "algo_expid", "algo_pvid", "ns", "abbucket",
        "ali_refid", "ali_trackid", "acm", "utparam", "pos", "abtest", "trackInfo", "user_number_id",
        "utkn", "scene", "mytmenu", "turing_bucket", "lygClk", "impid", "bftTag", "bftRwd", "activity_id",
    ),
    "aliexpress.com": (
        "ws_ab_test", "btsid", "algo_expid", "algo_pvid", "gps-id", "scm[_a-z-]*", "cv", "af",
        "mall_affr", "sk", "dp", "terminal_id", "aff_request_id",
    ),
    "bilibili.com": (
        "callback", "spm_id_from", "from_source", "from", "seid", "mid", "share_source", "msource",
        "refer_from", "share_from", "share_medium", "share_plat", "share_tag", "share_session_id",
        "timestamp", "unique_k", "vd_source", "plat_id", "buvid", "is_story_h5", "up_id",
    ),
    "weibo.com": ("weibo_id", "dt_dapp"),
    "weibo.cn": ("weibo_id", "dt_dapp"),
    "sohu.com": ("pvid", "scm"),
    "xiaohongshu.com": (
        "xhsshare", "author_share", "type", "xsec_source", "share_from_user_hidden", "app_version",
        "ignoreEngage", "app_platform", "apptime", "appuid", "shareRedId", "share_id", "exSource",
        "verifyUuid", "verifyType", "verifyBiz",
    ),
    "youku.com": ("tpa",),
    # WeChat pages other than /s articles: the share parameters RSSHub lists as unessential.
    "mp.weixin.qq.com": (
        "chksm", "mpshare", "scene", "ascene", "subscene", "srcid", "sharer_sharetime",
        "sharer_shareid", "sharer_[a-z_]*", "exportkey", "pass_ticket", "clicktime", "enterid",
        "devicetype", "nettype", "abtest_cookie", "wx_header", "from", "isappinstalled",
    ),
}  # fmt: skip

WECHAT_HOST = "mp.weixin.qq.com"
_WECHAT_PERMANENT = (("__biz",), ("mid", "appmsgid"), ("idx", "itemidx"), ("sn", "sign"))
_WECHAT_TEMPORARY = ("src", "timestamp", "ver", "signature")


@lru_cache(maxsize=32)
def _rules_for(host: str) -> re.Pattern[str]:
    rules = list(GLOBAL_RULES)
    for suffix, extra in PROVIDER_RULES.items():
        if host == suffix or host.endswith("." + suffix):
            rules += extra
    return re.compile("|".join(f"(?:{r})" for r in rules), re.IGNORECASE)


@record(frozen=True)
class Cleaning:
    """What `clean_url` does to one URL: the cleaned URL and what it removed."""

    url: str
    removed: tuple[str, ...] = ()  # parameter names (and "#fragment"), in order
    temporary_wechat: bool = False  # a WeChat link that expires; cleaning cannot fix that

    @property
    def changed(self) -> bool:
        return bool(self.removed)


def _split(url: str) -> tuple[str, str, str, str, str] | None:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return parts.scheme, parts.netloc, parts.path, parts.query, parts.fragment


def _pairs(query: str) -> list[tuple[str, str]]:
    """(name as decoded, raw `name=value` text) for each `&`-separated piece, kept verbatim."""
    pairs = []
    for raw in query.split("&"):
        if not raw:
            continue
        name = raw.split("=", 1)[0]
        decoded = parse_qsl(name + "=", keep_blank_values=True)
        pairs.append((decoded[0][0] if decoded else name, raw))
    return pairs


def inspect(url: str) -> Cleaning:
    """What cleaning `url` would remove (nothing for anything that is not an http(s) URL)."""
    split = _split(url)
    if split is None:
        return Cleaning(url)
    scheme, netloc, path, query, fragment = split
    host = (urlsplit(url).hostname or "").lower()
    pairs = _pairs(query)
    if host == WECHAT_HOST and (path == "/s" or path.startswith("/s/")):
        return _wechat(url, scheme, netloc, path, pairs, fragment)
    if not pairs:  # nothing to remove (and no rules to compile: ~2 ms, once a process)
        return Cleaning(url)
    rules = _rules_for(host)
    kept = [raw for name, raw in pairs if not rules.fullmatch(name.lstrip("?"))]
    removed = tuple(name for name, raw in pairs if raw not in kept)
    if not removed:
        return Cleaning(url)
    return Cleaning(urlunsplit((scheme, netloc, path, "&".join(kept), fragment)), removed)


def _wechat(
    url: str, scheme: str, netloc: str, path: str, pairs: list[tuple[str, str]], fragment: str
) -> Cleaning:
    found = dict(reversed(pairs))  # the first of a repeated name wins
    extra = ("#" + fragment,) if fragment else ()
    if path.startswith("/s/"):
        removed = tuple(name for name, _ in pairs) + extra
        return Cleaning(urlunsplit((scheme, netloc, path, "", "")), removed) if removed else Cleaning(url)
    permanent = [next((n for n in names if n in found), None) for names in _WECHAT_PERMANENT]
    if all(permanent):
        # The old parameter names become the current ones: the same article either way.
        kept = [
            names[0] + "=" + found[name].split("=", 1)[1] if "=" in found[name] else found[name]
            for names, name in zip(_WECHAT_PERMANENT, permanent, strict=True)
            if name is not None
        ]
        temporary = False
    else:
        kept = [found[name] for name in _WECHAT_TEMPORARY if name in found]
        temporary = True
    query = "&".join(kept)
    removed = tuple(name for name, raw in pairs if raw not in kept) + extra
    new = urlunsplit((scheme, netloc, path, query, ""))
    if new == url:
        return Cleaning(url, temporary_wechat=temporary)
    return Cleaning(new, removed or ("(renamed)",), temporary)


def clean_url(url: str) -> str:
    """`url` without tracking parameters; a WeChat article link in its stable form.

    Anything that is not an http(s) URL comes back unchanged (the exporters refuse those
    separately), and so does an http(s) URL with nothing to remove.
    """
    return inspect(url).url
