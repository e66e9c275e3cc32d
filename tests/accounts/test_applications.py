"""单位入驻申请: apply, return with a reason, re-apply, approve; scope (404 elsewhere); ignored fields."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kepuyue.accounts.models import ApplicationStatus, OrganizationApplication
from kepuyue.audit.models import AuditEntry
from kepuyue.orgs.models import Membership, Organization
from tests.accounts.conftest import PDF, png_bytes, uscc
from tests.fixtures_accounts import create_staff, login_staff

pytestmark = pytest.mark.django_db

USCC = uscc("12330000470000001")


def form(**overrides):
    data = {
        "name": "宁波科学探索中心",
        "type": "science_museum",
        "region_text": "浙江省宁波市鄞州区",
        "uscc": USCC,
        "contact_name": "王老师",
        "contact_phone": "0574-88888888",
        "contact_email": "kp@example.org",
        "proof_file": SimpleUploadedFile("证明.pdf", PDF, content_type="application/pdf"),
    }
    data.update(overrides)
    return data


@pytest.fixture
def applied(client, applicant, types, regions):
    client.force_login(applicant)
    response = client.post(reverse("accounts:apply"), form())
    assert response.status_code == 302, response.content.decode()
    return OrganizationApplication.objects.get()


def test_signup_creates_a_public_account_with_a_masked_phone(client):
    response = client.post(
        reverse("accounts:signup"),
        {
            "email": "Li.Lei@Example.org",
            "phone": "139 1234 5678",
            "password1": "Kexue-Puji-2025",
            "password2": "Kexue-Puji-2025",
        },
    )
    assert response.status_code == 302
    page = client.get(reverse("accounts:home")).content.decode()
    assert "li.lei@example.org" in page
    assert "139****5678" in page and "13912345678" not in page
    again = client.post(
        reverse("accounts:signup"),
        {"email": "li.lei@example.org", "password1": "Kexue-Puji-2025", "password2": "Kexue-Puji-2025"},
    )
    assert again.status_code == 302  # signed in already: to the account page
    client.post("/accounts/logout/")
    taken = client.post(
        reverse("accounts:signup"),
        {"email": "LI.LEI@example.org", "password1": "Kexue-Puji-2025", "password2": "Kexue-Puji-2025"},
    )
    assert "该电子邮箱已注册" in taken.content.decode()


def test_application_resolves_the_place_and_keeps_the_proof_private(applied, settings):
    assert applied.region_id == "330212"
    assert applied.status == ApplicationStatus.PENDING
    assert applied.proof_type == "application/pdf"
    path = applied.proof.path
    assert path.startswith(str(settings.PRIVATE_MEDIA_ROOT)) and not path.startswith(str(settings.MEDIA_ROOT))
    assert path.endswith(".pdf") and "证明" not in path


def test_application_takes_a_six_digit_code(client, applicant, types, regions):
    client.force_login(applicant)
    client.post(reverse("accounts:apply"), form(region_text="330106"))
    assert OrganizationApplication.objects.get().region_id == "330106"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("a.pdf", b"MZ\x90\x00not a pdf"), "证明材料须为 PDF、JPEG 或 PNG 文件"),
        (SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40), "证明材料图片已损坏"),
        (SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024)), "证明材料不能超过 10 MB"),
    ],
)
def test_proof_is_checked_by_content_and_size(client, applicant, types, regions, upload, message):
    client.force_login(applicant)
    page = client.post(reverse("accounts:apply"), form(proof_file=upload)).content.decode()
    assert message in page
    assert not OrganizationApplication.objects.exists()


def test_bad_uscc_and_unknown_place_are_explained(client, applicant, types, regions):
    client.force_login(applicant)
    page = client.post(
        reverse("accounts:apply"), form(uscc="91350100M000100Y44", region_text="火星基地")
    ).content.decode()
    assert "校验位错误" in page and "无法确定“火星基地”所在的地区" in page


def test_png_proof_is_accepted(client, applicant, types, regions):
    client.force_login(applicant)
    client.post(reverse("accounts:apply"), form(proof_file=SimpleUploadedFile("p.png", png_bytes())))
    assert OrganizationApplication.objects.get().proof_type == "image/png"


def test_photo_proof_is_stored_without_its_exif_and_gps(client, applicant, types, regions):
    """A phone photo of a licence: stored upright, as JPEG, with no EXIF (no GPS, no camera)."""
    import io

    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = 6  # orientation: rotate 90° to show upright
    exif.get_ifd(0x8825).update({1: "N", 2: (30.0, 15.0, 0.0)})  # GPSLatitudeRef, GPSLatitude
    raw = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(raw, format="JPEG", exif=exif)
    assert Image.open(io.BytesIO(raw.getvalue())).getexif().get_ifd(0x8825)

    client.force_login(applicant)
    client.post(
        reverse("accounts:apply"),
        form(proof_file=SimpleUploadedFile("licence.jpg", raw.getvalue(), content_type="image/jpeg")),
    )
    application = OrganizationApplication.objects.get()
    assert application.proof_type == "image/jpeg" and application.proof.name.endswith(".jpg")
    with application.proof.open("rb") as stored, Image.open(stored) as image:
        assert not image.getexif()
        assert image.size == (20, 40)  # turned upright before the orientation tag was dropped


def test_province_admin_sees_it_and_another_province_gets_404(client, applied, zj_admin, gd_admin):
    login_staff(client, gd_admin)
    assert "宁波科学探索中心" not in client.get(reverse("accounts:review_list")).content.decode()
    for name in ["review_detail", "review_proof"]:
        assert client.get(reverse(f"accounts:{name}", args=[applied.pk])).status_code == 404
    assert client.post(reverse("accounts:approve", args=[applied.pk])).status_code == 404
    assert client.post(reverse("accounts:return", args=[applied.pk]), {"reason": "x"}).status_code == 404
    applied.refresh_from_db()
    assert applied.status == ApplicationStatus.PENDING

    login_staff(client, zj_admin)
    assert "宁波科学探索中心" in client.get(reverse("accounts:review_list")).content.decode()
    page = client.get(reverse("accounts:review_detail", args=[applied.pk])).content.decode()
    assert USCC in page and "批准入驻" in page
    proof = client.get(reverse("accounts:review_proof", args=[applied.pk]))
    assert proof.status_code == 200 and proof["Content-Type"] == "application/pdf"
    assert b"".join(proof.streaming_content) == PDF


def test_accounts_without_an_admin_role_cannot_review(client, applied):
    client.force_login(applied.applicant)
    assert client.get(reverse("accounts:review_list")).status_code == 403
    assert client.get(reverse("accounts:review_detail", args=[applied.pk])).status_code == 403
    assert client.post(reverse("accounts:approve", args=[applied.pk])).status_code == 403


def test_return_reapply_approve(client, applied, zj_admin):
    applicant = applied.applicant
    login_staff(client, zj_admin)
    assert client.post(reverse("accounts:return", args=[applied.pk]), {"reason": " "}).status_code == 302
    applied.refresh_from_db()
    assert applied.status == ApplicationStatus.PENDING  # a reason is required
    client.post(reverse("accounts:return", args=[applied.pk]), {"reason": "证明材料不清晰，请重新上传盖章件"})
    applied.refresh_from_db()
    assert applied.status == ApplicationStatus.RETURNED

    client.force_login(applicant)
    home = client.get(reverse("accounts:home")).content.decode()
    assert "证明材料不清晰，请重新上传盖章件" in home
    edit = client.get(reverse("accounts:apply")).content.decode()
    assert "证明材料不清晰" in edit and 'value="宁波科学探索中心"' in edit
    data = form(name="宁波科学探索中心（宁波科技馆）", status="approved", organization="1")
    del data["proof_file"]  # the old proof is kept
    assert client.post(reverse("accounts:apply"), data).status_code == 302
    applied.refresh_from_db()
    assert applied.status == ApplicationStatus.PENDING and applied.name == "宁波科学探索中心（宁波科技馆）"
    assert applied.return_reason == "" and applied.proof_type == "application/pdf"

    other = Organization.objects.create(name="别的单位", type_id="science_museum", region_id="440106")
    login_staff(client, zj_admin)
    response = client.post(
        reverse("accounts:approve", args=[applied.pk]),
        {"organization": other.pk, "region": "440106", "status": "returned", "is_staff": "on"},
    )
    assert response.status_code == 302
    applied.refresh_from_db()
    assert applied.status == ApplicationStatus.APPROVED and applied.decided_by == zj_admin
    organization = applied.organization
    assert organization != other and organization.name == "宁波科学探索中心（宁波科技馆）"
    assert organization.region_id == "330212" and organization.uscc == USCC
    assert Membership.objects.get(user=applicant).organization == organization
    applicant.refresh_from_db()
    assert not applicant.is_staff and not applicant.is_superuser
    actions = list(
        AuditEntry.objects.filter(action__startswith="application.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "application.submit",
        "application.return",
        "application.resubmit",
        "application.approve",
    ]
    assert AuditEntry.objects.filter(action="organization.create", actor=zj_admin).exists()
    assert AuditEntry.objects.filter(action="membership.create", organization=organization).exists()

    # The new unit's account publishes at once (no TOTP for publishers).
    client.force_login(applicant)
    assert client.get(reverse("activities:mine")).status_code == 200
    # A decided application cannot be decided again.
    login_staff(client, zj_admin)
    client.post(reverse("accounts:return", args=[applied.pk]), {"reason": "再退回"})
    applied.refresh_from_db()
    assert applied.status == ApplicationStatus.APPROVED


def test_approve_links_an_existing_unit_with_the_same_uscc(client, applied, zj_admin):
    existing = Organization.objects.create(
        name="宁波科学探索中心有限公司", type_id="science_museum", region_id="330200", uscc=USCC
    )
    login_staff(client, zj_admin)
    client.post(reverse("accounts:approve", args=[applied.pk]))
    assert Membership.objects.get(user=applied.applicant).organization == existing
    assert Organization.objects.count() == 1
    assert AuditEntry.objects.get(action="application.approve").data["linked"] is True


def test_same_name_with_another_uscc_is_not_linked(client, applied, zj_admin):
    Organization.objects.create(
        name="宁波科学探索中心", type_id="science_museum", region_id="330200", uscc=uscc("12330000470000002")
    )
    login_staff(client, zj_admin)
    page = client.post(reverse("accounts:approve", args=[applied.pk]), follow=True).content.decode()
    assert "统一社会信用代码不一致" in page
    applied.refresh_from_db()
    assert applied.status == ApplicationStatus.PENDING and not Membership.objects.exists()


def test_branch_of_a_national_society_goes_to_the_society_admin(client, applicant, types, regions):
    society = Organization.objects.create(
        name="中国科普作家协会", type_id="national_society", region_id="110000"
    )
    society_admin = create_staff("society-admin", role="platform_admin", organization=society)
    beijing_admin = create_staff("bj-admin", role="platform_admin", region="110000")
    client.force_login(applicant)
    client.post(
        reverse("accounts:apply"),
        form(name="中国科普作家协会科学文艺专委会", region_text="110105", parent=society.pk),
    )
    application = OrganizationApplication.objects.get()
    login_staff(client, beijing_admin)
    assert client.get(reverse("accounts:review_detail", args=[application.pk])).status_code == 404
    login_staff(client, society_admin)
    assert client.get(reverse("accounts:review_detail", args=[application.pk])).status_code == 200
    client.post(reverse("accounts:approve", args=[application.pk]))
    assert Membership.objects.get(user=applicant).organization.parent == society


def test_a_unit_account_cannot_apply_again(client, applied, zj_admin):
    login_staff(client, zj_admin)
    client.post(reverse("accounts:approve", args=[applied.pk]))
    client.force_login(applied.applicant)
    response = client.get(reverse("accounts:apply"))
    assert response.status_code == 302
    assert OrganizationApplication.objects.count() == 1


def test_applicant_reads_only_their_own_proof(client, applied, django_user_model):
    client.force_login(applied.applicant)
    assert client.get(reverse("accounts:my_proof", args=[applied.pk])).status_code == 200
    client.force_login(django_user_model.objects.create_user("someone-else", password="Kexue-Puji-2025"))
    assert client.get(reverse("accounts:my_proof", args=[applied.pk])).status_code == 404
