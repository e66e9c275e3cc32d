"""A unit's publisher on a phone creates an API token and a webhook subscription in headless
Chromium, and opens the interactive docs (served locally). Screenshots in ``test-artifacts/``."""

import pytest

pytestmark = pytest.mark.browser


def test_tokens_webhooks_and_docs_on_a_phone(
    transactional_db,
    regions,
    campaign_2025,
    live_server,
    phone_page,
    artifacts_dir,
    settings,
    django_user_model,
):
    from kepuyue.orgs.models import Membership, Organization, OrganizationType

    settings.WEBHOOK_ALLOW_PRIVATE = True
    kind, _created = OrganizationType.objects.get_or_create(
        code="science_museum", defaults={"name": "科技馆"}
    )
    unit = Organization.objects.create(name="杭州科技馆", type=kind)
    user = django_user_model.objects.create_user("hz-staff", password="Pw-unit-staff-2025")
    Membership.objects.create(user=user, organization=unit)
    page = phone_page
    page.goto(f"{live_server.url}/accounts/login/?next=/org/api/tokens/")
    page.get_by_label("用户名或电子邮箱").fill("hz-staff")
    page.get_by_label("密码").fill("Pw-unit-staff-2025")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/org/api/tokens/")
    page.get_by_label("名称").fill("浙江省科普月系统")
    page.get_by_role("button", name="创建令牌").click()
    secret = page.get_by_label("令牌").input_value()
    assert secret.startswith("kpy_")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts_dir / "api-token-created.png"), full_page=True)

    page.goto(f"{live_server.url}/org/api/webhooks/")
    page.get_by_label("接收地址").fill("http://127.0.0.1:8171/hook")
    page.get_by_label("活动已发布").check()
    page.get_by_role("button", name="添加订阅").click()
    assert page.get_by_label("签名密钥").input_value().startswith("whsec_")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts_dir / "api-webhook-created.png"), full_page=True)

    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30000)
    assert all(url.startswith(live_server.url) or url.startswith("data:") for url in requests), requests
    page.screenshot(path=str(artifacts_dir / "api-docs.png"))
