"""Simplified Chinese first, English second: the catalogue is complete and every page follows
the visitor's language (cookie, Accept-Language or the language switch)."""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.utils import translation

from dealer_crm.models import Branch, DealerGroup, Staff
from dealer_crm.settings import base as base_settings

LC_MESSAGES = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_FILE = LC_MESSAGES / "django.po"
MO_FILE = LC_MESSAGES / "django.mo"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\{[^}]*\}\}")
ZH = "zh-hans"
EN = "en"


def parse_po(path: Path) -> list[dict]:
    """Each entry of a .po file: flags, msgctxt, msgid, msgid_plural, msgstr / msgstr[N]."""
    entries = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        entry: dict = {"flags": set()}
        field = None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry["obsolete"] = True
            elif line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                entry[field] += ast.literal_eval(line)
            else:
                field, _, text = line.partition(" ")
                entry[field] = ast.literal_eval(text)
        if "msgid" in entry and not entry.get("obsolete"):
            entries.append(entry)
    return entries


def translations(entry: dict) -> list[str]:
    return [value for key, value in entry.items() if key.startswith("msgstr")]


@pytest.fixture(scope="module")
def po_entries() -> list[dict]:
    return parse_po(PO_FILE)


@pytest.fixture
def consultant(db) -> User:
    group = DealerGroup.objects.create(name="华通汽车集团")
    branch = Branch.objects.create(group=group, code="i18n-tianhe", name="天河大众4S店")
    user = User.objects.create_user(
        "i18n_consultant", password="Dealer-crm-2026", first_name="小明", last_name="李"
    )
    staff = Staff.objects.create(user=user)
    staff.branches.add(branch)
    user.groups.add(Group.objects.get(name="sales_consultant"))
    return user


@pytest.fixture
def logged_in(client, consultant):
    client.force_login(consultant)
    return client


@pytest.fixture
def product_default_language(settings):
    """The product's default language (the test settings read messages in English)."""
    settings.LANGUAGE_CODE = base_settings.LANGUAGE_CODE
    return settings.LANGUAGE_CODE


def set_language_cookie(client, language: str) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language


# --- (a) the catalogue -----------------------------------------------------------------------


def test_catalogue_header(po_entries):
    header = po_entries[0]
    assert header["msgid"] == ""
    assert "Language: zh_Hans\n" in header["msgstr"]
    assert "charset=UTF-8" in header["msgstr"]
    assert "Plural-Forms: nplurals=1; plural=0;" in header["msgstr"]
    assert "fuzzy" not in header["flags"]


def test_catalogue_has_no_untranslated_or_fuzzy_entry(po_entries):
    messages = po_entries[1:]
    assert len(messages) > 300
    fuzzy = [entry["msgid"] for entry in messages if "fuzzy" in entry["flags"]]
    untranslated = [
        entry["msgid"]
        for entry in messages
        if not translations(entry) or not all(text.strip() for text in translations(entry))
    ]
    assert fuzzy == []
    assert untranslated == []


def test_catalogue_keeps_placeholders_and_has_one_plural_form(po_entries):
    wrong = []
    for entry in po_entries[1:]:
        expected = sorted(PLACEHOLDER.findall(entry["msgid"]))
        for text in translations(entry):
            if sorted(PLACEHOLDER.findall(text)) != expected:
                wrong.append((entry["msgid"], text))
        if "msgid_plural" in entry:
            assert "msgstr[0]" in entry and "msgstr[1]" not in entry, entry["msgid"]
    assert wrong == []


def test_compiled_catalogue_matches_the_po_file(po_entries):
    """The committed .mo was compiled from the current .po (the run command has no gettext)."""
    with MO_FILE.open("rb") as mo:
        catalog = gettext.GNUTranslations(mo)._catalog
    for entry in po_entries[1:]:
        key = entry["msgid"]
        if "msgctxt" in entry:
            key = f"{entry['msgctxt']}\x04{key}"
        if "msgid_plural" in entry:
            assert catalog.get((key, 0)) == entry["msgstr[0]"], key
        else:
            assert catalog.get(key) == entry["msgstr"], key


@pytest.mark.parametrize(
    ("message", "chinese"),
    [
        ("Customers", "客户"),
        ("Vehicles", "车辆"),
        ("Log in", "登录"),
        ("Sales consultant", "销售顾问"),
        ("Master-data completeness", "主数据完整度"),
        ("Within 三包 period", "三包期内"),
    ],
)
def test_django_translates_known_strings(message, chinese):
    with translation.override(ZH):
        assert translation.gettext(message) == chinese
    with translation.override(EN):
        assert translation.gettext(message) == message


def test_plural_message_has_the_chinese_form():
    with translation.override(ZH):
        text = translation.ngettext("%(n)s row refused", "%(n)s rows refused", 3) % {"n": 3}
    assert text == "3 行被拒绝"


# --- (b) pages follow the cookie and Accept-Language --------------------------------------------


def test_product_languages():
    assert base_settings.LANGUAGE_CODE == ZH
    assert [code for code, _name in base_settings.LANGUAGES] == [ZH, EN]
    assert Path(base_settings.LOCALE_PATHS[0]) == LC_MESSAGES.parent.parent


@pytest.mark.django_db
def test_login_page_in_chinese_by_default(client, product_default_language):
    content = client.get("/login/").content.decode()
    assert '<html lang="zh-hans">' in content
    assert "登录" in content and "客户" in content
    assert "Log in" not in content


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["cookie", "header"])
def test_login_page_follows_the_language(client, how):
    def get(language):
        if how == "cookie":
            set_language_cookie(client, language)
            return client.get("/login/")
        return client.get("/login/", headers={"accept-language": language})

    chinese = get(ZH).content.decode()
    assert "登录经销商客户管理系统" in chinese
    assert "客户" in chinese and "Log in" not in chinese

    english = get(EN).content.decode()
    assert '<html lang="en">' in english
    assert "Log in to Dealer CRM" in english and "Username" in english
    assert "登录" not in english


@pytest.mark.parametrize("how", ["cookie", "header"])
def test_customer_list_follows_the_language(logged_in, how):
    def get(language):
        if how == "cookie":
            set_language_cookie(logged_in, language)
            return logged_in.get("/customers/")
        return logged_in.get("/customers/", headers={"accept-language": language})

    chinese = get(ZH)
    assert chinese.status_code == 200
    text = chinese.content.decode()
    assert '<html lang="zh-hans">' in text
    assert "客户" in text and "新建客户" in text and "车龄" in text
    assert "Customers" not in text and "New customer" not in text

    english = get(EN)
    assert english.status_code == 200
    text = english.content.decode()
    assert '<html lang="en">' in text
    assert "Customers" in text and "New customer" in text and "Vehicle age" in text
    assert "新建客户" not in text and "车龄" not in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("header", "lang"),
    [("zh-CN,zh;q=0.9,en;q=0.8", ZH), ("en-US,en;q=0.9,zh-CN;q=0.5", EN), ("fr-FR,fr", ZH)],
)
def test_browser_accept_language_headers(client, product_default_language, header, lang):
    """What browsers send: zh-CN is Simplified Chinese, en-US English, anything else the default."""
    content = client.get("/login/", headers={"accept-language": header}).content.decode()
    assert f'<html lang="{lang}">' in content


# --- (c) the language switch ----------------------------------------------------------------------


def test_language_switch_sets_the_cookie_and_the_next_page_follows(
    logged_in, product_default_language
):
    cookie = settings.LANGUAGE_COOKIE_NAME
    assert "新建客户" in logged_in.get("/customers/").content.decode()

    response = logged_in.post("/i18n/setlang/", {"language": EN, "next": "/customers/"})
    assert response.status_code == 302
    assert response["Location"] == "/customers/"
    assert response.cookies[cookie].value == EN
    english = logged_in.get("/customers/").content.decode()
    assert "New customer" in english and "新建客户" not in english

    response = logged_in.post("/i18n/setlang/", {"language": ZH, "next": "/customers/"})
    assert response.status_code == 302
    assert response.cookies[cookie].value == ZH
    chinese = logged_in.get("/customers/").content.decode()
    assert "新建客户" in chinese and "New customer" not in chinese


def test_language_switch_is_on_every_page(logged_in, product_default_language):
    page = logged_in.get("/customers/").content.decode()
    assert 'action="/i18n/setlang/"' in page and 'value="en"' in page
    set_language_cookie(logged_in, EN)
    page = logged_in.get("/customers/").content.decode()
    assert 'value="zh-hans"' in page


# --- (d) API errors: the message follows Accept-Language, the code stays -------------------------


def test_api_error_message_follows_accept_language(logged_in):
    url = "/api/v1/customers/999999/"
    chinese = logged_in.get(url, headers={"accept-language": ZH})
    english = logged_in.get(url, headers={"accept-language": EN})

    assert chinese.status_code == english.status_code == 404
    assert chinese.json()["code"] == english.json()["code"] == "not_found"
    assert english.json()["detail"] == "Not found."
    assert chinese.json()["detail"] == "未找到。"
    assert chinese["Content-Language"] == ZH
    assert english["Content-Language"] == EN


def test_api_validation_message_follows_accept_language(logged_in):
    """A project message (not only the framework's) is translated in the API too."""
    payload = {"kind": "person", "name": "王小明", "mobile": "1381234567"}

    def post(language):
        return logged_in.post(
            "/api/v1/customers/", payload, "application/json", headers={"accept-language": language}
        )

    chinese, english = post(ZH), post(EN)
    assert chinese.status_code == english.status_code == 400
    assert english.json()["mobile"] == ["A mobile number has 11 digits; '1381234567' has 10."]
    assert chinese.json()["mobile"] == ["手机号为 11 位数字；'1381234567' 为 10 位。"]


def test_api_domain_error_message_follows_accept_language(logged_in):
    """A refused business rule: the message is translated, the code is not."""
    url = "/api/v1/customers/duplicates/"
    chinese = logged_in.get(url, headers={"accept-language": ZH})
    english = logged_in.get(url, headers={"accept-language": EN})

    assert chinese.status_code == english.status_code == 400
    assert chinese.json()["code"] == english.json()["code"] == "duplicate_query_empty"
    assert english.json()["detail"] == "Give at least one of mobile, id_number, credit_code or vin."
    assert chinese.json()["detail"] == "请至少提供 mobile、id_number、credit_code 或 vin 中的一项。"
