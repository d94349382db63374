"""Platform tokens with a distinctive prefix or structure, after gitleaks' default rule set
(https://github.com/gitleaks/gitleaks/blob/master/config/gitleaks.toml, rules under ``cmd/generate/config/rules``).

Each rule is a name, a Python pattern for the whole token (its literal prefix first) and, for tokens whose body
is random, a minimum Shannon entropy of the body. A finding is ``generic_secret`` (or the named kind, for the
few with a kind of their own) with the rule's name as ``classifier``. Published example keys and placeholders
(x-filled bodies, ``EXAMPLE``, low entropy) are not findings.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from agent_security.egress.classifiers.base import Classifier, Hit, alnum_at, s_
from agent_security.egress.findings import Classification
from agent_security.egress.validators import is_placeholder, shannon_entropy

if TYPE_CHECKING:
    from agent_security.egress.scanner import LayerView

__all__ = ["PLATFORM_TOKEN", "RULES", "Rule"]


class Rule(NamedTuple):
    name: str
    pattern: str
    """RE2- and ``re``-compatible; no capturing groups; starts with the token's literal prefix when it has one."""
    entropy: float = 3.0
    kind: str = "generic_secret"
    anchor: str = ""
    """What the prefilter looks for (short, so the combined automaton stays small); by default each
    alternative of ``pattern`` up to its first repetition. The token may start before the anchor."""


_H = "[0-9a-f]"
_A = "[A-Za-z0-9]"
_W = r"[A-Za-z0-9_\-]"

RULES: tuple[Rule, ...] = (
    Rule("gitlab_pat", rf"glpat-{_W}{{20}}"),
    Rule("gitlab_ptt", rf"glptt-{_H}{{40}}"),
    Rule("gitlab_rrt", rf"GR1348941{_W}{{20}}"),
    Rule("gitlab_token", rf"gl(?:dt|rt|cbt|ft|soat|oas|imt)-{_W}{{20}}"),
    Rule("gitlab_agent_token", rf"glagent-{_W}{{50}}"),
    Rule("anthropic_key", rf"sk-ant-(?:api03|admin01)-{_W}{{93}}AA"),
    Rule("npm_token", rf"npm_{_A}{{36}}"),
    Rule("pypi_token", rf"pypi-AgEIcHlwaS5vcmc{_W}{{50,1000}}"),
    Rule("rubygems_token", rf"rubygems_{_H}{{48}}"),
    Rule("shopify_token", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
    Rule("sendgrid_key", r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"),
    Rule("twilio_key", r"SK[0-9a-fA-F]{32}", 3.2, anchor=r"SK[0-9a-fA-F]{8}"),
    Rule("mailgun_key", rf"key-{_H}{{32}}"),
    Rule("mailchimp_key", rf"{_H}{{32}}-us\d{{1,2}}", anchor=r"[0-9a-f]-us\d"),
    Rule("digitalocean_token", rf"do[opr]_v1_{_H}{{64}}"),
    Rule("doppler_token", r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}"),
    Rule("dropbox_token", r"sl\.[A-Za-z0-9\-=_]{130,152}", anchor=r"sl\.[A-Za-z0-9\-=_]{16}"),
    Rule("terraform_token", r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9\-_=]{60,70}", anchor=r"\.atlasv1\."),
    Rule("vault_token", r"hv[sb]\.[A-Za-z0-9_\-]{90,300}"),
    Rule("huggingface_token", r"(?:hf_|api_org_)[A-Za-z]{34}"),
    Rule("linear_key", r"lin_api_[A-Za-z0-9]{40}"),
    Rule("postman_key", rf"PMAK-{_H}{{24}}-{_H}{{34}}"),
    Rule("pulumi_token", rf"pul-{_H}{{40}}"),
    Rule("grafana_token", r"glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"),
    Rule("newrelic_key", r"NRAK-[A-Z0-9]{27}|NRJS-[a-f0-9]{19}|NRII-[A-Za-z0-9\-]{32}"),
    Rule("databricks_token", rf"dapi{_H}{{32}}"),
    Rule("age_secret_key", r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}", 3.0, "private_key"),
    Rule("alibaba_key", r"LTAI[A-Za-z0-9]{20}"),
    Rule("adobe_secret", r"p8e-[A-Za-z0-9]{32}"),
    Rule("atlassian_token", r"ATATT3[A-Za-z0-9_\-=]{186}"),
    Rule(
        "azure_ad_client_secret",
        r"[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}",
        anchor=r"\dQ~[A-Za-z0-9_~.\-]{4}",
    ),
    Rule("azure_storage_key", r"AccountKey=[A-Za-z0-9+/]{86}=="),
    Rule("azure_sas_key", r"SharedAccessKey=[A-Za-z0-9+/]{43}="),
    Rule("clojars_token", r"CLOJARS_[a-z0-9]{60}"),
    Rule("cloudflare_origin_ca", rf"v1\.0-{_H}{{24}}-{_H}{{146}}"),
    Rule("duffel_token", r"duffel_(?:test|live)_[A-Za-z0-9_\-=]{43}"),
    Rule("dynatrace_token", r"dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}"),
    Rule("easypost_key", r"EZ[AT]K[A-Za-z0-9]{54}"),
    Rule("flutterwave_key", r"FLWSECK(?:_TEST)?-[a-h0-9]{32}-X"),
    Rule("frameio_token", r"fio-u-[A-Za-z0-9\-_=]{64}"),
    Rule("harness_token", r"(?:pat|sat)\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}"),
    Rule("heroku_key", r"HRKU-AA[0-9A-Za-z_\-]{58}"),
    Rule("infracost_key", r"ico-[A-Za-z0-9]{32}"),
    Rule("openshift_token", r"sha256~[A-Za-z0-9_\-]{43}"),
    Rule("planetscale_token", r"pscale_(?:tkn|pw|oauth)_[A-Za-z0-9=\-_.]{32,64}"),
    Rule("prefect_key", r"pnu_[A-Za-z0-9]{36}"),
    Rule("readme_key", r"rdme_[a-z0-9]{70}"),
    Rule("scalingo_token", r"tk-us-[A-Za-z0-9_\-]{48}"),
    Rule("sentry_token", r"sntryu_[a-f0-9]{64}|sntrys_eyJpYXQiO[A-Za-z0-9+/=_\-]{60,400}"),
    Rule("settlemint_token", r"sm_(?:pat|aat|sat)_[A-Za-z0-9]{16}"),
    Rule("shippo_token", r"shippo_(?:live|test)_[a-fA-F0-9]{40}"),
    Rule("square_token", r"(?:EAAA|sq0atp-)[A-Za-z0-9_\-]{22,60}|sq0csp-[A-Za-z0-9_\-]{43}"),
    Rule("telegram_bot_token", r"\d{8,10}:AA[A-Za-z0-9_\-]{33}", anchor=r"\d:AA[A-Za-z0-9_\-]{4}"),
    Rule("typeform_token", r"tfp_[A-Za-z0-9\-_.=]{59}"),
    # gitleaks also has Yandex's "YC" + 38 characters, but only beside the word "yandex": alone, two letters
    # and a run of base64 characters meet it in ordinary base64 (about one 700 KB file in forty)
    Rule("yandex_key", r"AQVN[A-Za-z0-9_\-]{35,38}"),
    Rule("flyio_token", r"fo1_[A-Za-z0-9_\-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3}"),
    Rule("facebook_token", r"EAA[MC][A-Za-z0-9]{100,}"),
    Rule("mapbox_secret_token", r"sk\.eyJ[A-Za-z0-9]{50,}\.[A-Za-z0-9_\-]{22}"),
    Rule(
        "teams_webhook",
        anchor=r"\.webhook\.office\.com/webhookb2/",
        pattern=r"[a-z0-9]+\.webhook\.office\.com/webhookb2/[a-z0-9\-]{36}@[a-z0-9\-]{36}/IncomingWebhook/"
        r"[a-z0-9]{32}/[a-z0-9\-]{36}",
    ),
    Rule("discord_webhook", r"discord(?:app)?\.com/api/webhooks/\d{17,20}/[A-Za-z0-9_\-]{60,68}"),
    Rule("jfrog_key", r"AKCp[A-Za-z0-9]{69}|cmVmdGtuOjAxOj[A-Za-z0-9]{50}"),
    Rule("perplexity_key", r"pplx-[A-Za-z0-9]{48}"),
    Rule("groq_key", r"gsk_[A-Za-z0-9]{52}"),
    Rule("xai_key", r"xai-[A-Za-z0-9]{80}"),
    Rule("replicate_token", r"r8_[A-Za-z0-9]{37}"),
    Rule("notion_token", r"ntn_\d{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43}"),
    Rule("airtable_token", rf"pat[A-Za-z0-9]{{14}}\.{_H}{{64}}"),
    Rule("onepassword_token", r"ops_eyJ[A-Za-z0-9+/]{250,}={0,3}"),
    Rule("render_key", r"rnd_[A-Za-z0-9]{32}"),
    Rule("netlify_token", r"nfp_[A-Za-z0-9]{36}"),
    Rule("supabase_token", rf"sbp_{_H}{{40}}"),
    Rule("sourcegraph_token", r"sgp_(?:[a-fA-F0-9]{16}|local)_[a-fA-F0-9]{40}"),
    Rule("google_oauth_secret", r"GOCSPX-[A-Za-z0-9_\-]{28}"),
    Rule("google_oauth_token", r"ya29\.[A-Za-z0-9_\-]{30,}|1//0[A-Za-z0-9_\-]{40,}"),
    Rule("aws_bedrock_key", r"ABSK[A-Za-z0-9+/]{109,269}={0,2}"),
    Rule("octopus_key", r"API-[A-Z0-9]{26}"),
    Rule("nuget_key", r"oy2[a-z0-9]{43}"),
    Rule("slack_app_token", r"xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+", 3.0, "slack_token"),
    Rule("putty_private_key", r"PuTTY-User-Key-File-[23]: ", 0.0, "private_key"),
)


def _alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of ``pattern``."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(pattern):
        if ch == "(" and pattern[i - 1 : i] != "\\":
            depth += 1
        elif ch == ")" and pattern[i - 1 : i] != "\\":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append(pattern[start:i])
            start = i + 1
    out.append(pattern[start:])
    return out


@functools.cache
def _compiled(pattern: str) -> re.Pattern[bytes]:
    """A rule's pattern (or anchor), compiled when the prefilter first wakes its rule: a process that
    never meets a token of a platform never compiles its pattern."""
    return re.compile(pattern.encode())


_BY_PREFIX: dict[bytes, list[tuple[Rule, str]]] = {}
_ANYWHERE: list[tuple[Rule, str]] = []
for _r in RULES:
    for _alt in _alternatives(_r.pattern):
        _lit = re.match(r"[A-Za-z0-9_\-~/]{2}", _alt)
        if _lit is not None and _alt[2:3] not in ("{", "*", "+", "?"):
            _BY_PREFIX.setdefault(_lit.group(0).encode(), []).append((_r, _alt))
        else:
            _ANYWHERE.append((_r, _alt))
_FLOATING = frozenset(alt for _, alt in _ANYWHERE)

_CLASS = {"generic_secret": Classification.SECRET, "private_key": Classification.SECRET,
          "slack_token": Classification.SECRET}  # fmt: skip


def _detect_rule(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    data = view.data
    end = min(len(data), s + 256)
    floating = [(r, a) for r, a in _ANYWHERE if _compiled(_ANCHOR_AT[id(r)]).match(data, s, end)]
    for rule, alternative in (*_BY_PREFIX.get(data[s : s + 2], ()), *floating):
        rx = _compiled(alternative)
        if rule.anchor or alternative in _FLOATING:  # the token may start before the anchor: find it around
            m = rx.search(data, max(0, s - 64), min(len(data), s + 1200))
            if m is None or not m.start() <= s < m.end():
                continue
        else:
            m = rx.match(data, s, min(len(data), s + 1200))
            if m is None:
                continue
        before = data[m.start() - 1 : m.start()] if m.start() else b""
        keyed = m.group(0).startswith((b"AccountKey=", b"SharedAccessKey="))
        if (before.isalnum() or before in (b"+", b"/")) and not keyed:
            return  # inside a longer token or a base64 run
        if alnum_at(data, m.end()) and alnum_at(data, m.end() - 1):
            return  # the token runs on: not this shape
        token = s_(m.group(0))
        body = token.split("=", 1)[1] if token.startswith(("AccountKey=", "SharedAccessKey=")) else token
        if rule.entropy and (is_placeholder(body) or shannon_entropy(body) < rule.entropy):
            return
        masked = token[: min(8, len(token) // 4)] + "****"
        yield Hit(rule.kind, _CLASS[rule.kind], m.start(), m.end(), 0.9, masked, 85, rule.name)
        return


def _cut(alternative: str) -> str:
    """``alternative`` up to its first repetition outside a group (``glpat-[A-Za-z0-9_\\-]{20}`` ->
    ``glpat-[A-Za-z0-9_\\-]``)."""
    depth = 0
    in_class = False
    for i, ch in enumerate(alternative):
        if alternative[i - 1 : i] == "\\":
            continue
        if ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif in_class:
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and ch in "{*+?":
            return alternative[:i]
    return alternative


def rule_anchor(rule: Rule) -> str:
    return rule.anchor or "|".join(_cut(a) for a in _alternatives(rule.pattern))


# a rule found away from its prefix is tried only where its own anchor matched
_ANCHOR_AT = {id(rule): rule_anchor(rule) for rule, _ in _ANYWHERE}

PLATFORM_TOKEN = Classifier(
    "platform_token",
    "generic_secret",
    Classification.SECRET,
    "(?:" + "|".join(rule_anchor(r) for r in RULES) + ")",
    _detect_rule,
    85,
    "Platform tokens with a distinctive prefix or structure (after gitleaks' default rules); kind "
    "generic_secret, classifier = the rule",
    True,
)
