"""The portal's zone page links each call to its published works, and shows the upload limits in words."""

from kepuyue.portal.templatetags.portal_tags import _spec_words


def test_zone_page_links_to_the_gallery(client, plan):
    html = client.get("/campaigns/kepuyue-2025/zones/science-education-bases/").content.decode()
    assert 'href="/calls/kepuyue-2025/science-treasure-videos/"' in html
    assert 'href="/calls/kepuyue-2025/citywalk-routes/"' in html
    assert "max_bytes" not in html and "文件不超过2.0" in html


def test_upload_limits_in_words():
    words = _spec_words(
        {"max_images": 6, "max_image_bytes": 20 * 1024 * 1024, "max_image_pixels": 40_000_000}
    )
    assert words == ["图片最多6张", "每张不超过20.0\xa0MB", "每张不超过4000万像素"]
