"""Offline rounds (线上线下相结合, plan 六(三)1): a unit uploads its paper-quiz results through an
``.xlsx`` template (name, score out of 100); every row is checked first and problems come back in
Chinese naming the row; then the batch, its rows and the leaderboards' roll-ups are written in one
transaction (or nothing). Offline people count beside the online ones, marked 线下."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kepuyue.audit.services import record
from kepuyue.common import clock
from kepuyue.common.text import clean_text, parse_int
from kepuyue.common.writers import serialized_write
from kepuyue.regions.models import Region

from ..models import OfflineBatch, OfflineResult, Round
from . import boards, sheets

HEADERS = {"姓名": "name", "得分": "score", "得分（百分制）": "score"}
UPLOAD_DAYS_AFTER = 7  # paper results may still come in a week after the round closes
MAX_ROWS = 5000


def offline_template() -> bytes:
    return sheets.template(
        ["姓名", "得分（百分制）"],
        [["张三", 95], ["李四", 78]],
        title="线下成绩",
        notes=[
            "每行一人：姓名和百分制得分（0—100 的整数）。",
            f"每个文件最多 {MAX_ROWS} 行；同一文件不能重复上传。",
            "成绩计入本单位及所在省份的排行榜，标注为“线下”。",
        ],
    )


def upload_open(round: Round, at=None) -> bool:
    at = at or clock.now()
    return round.opens_at <= at <= round.closes_at + timedelta(days=UPLOAD_DAYS_AFTER)


def province_of(organization) -> Region | None:
    if organization.region_id is None:
        return None
    return Region.objects.filter(code=organization.region.province_code).first()


def import_offline(round: Round, organization, upload, *, actor) -> tuple[OfflineBatch | None, list[str]]:
    """Check and store a unit's paper results. Returns ``(batch, [])`` or ``(None, problems)``."""
    if not upload_open(round):
        return None, [_("不在线下成绩上传时间内（本轮开始至结束后 %(d)d 天）。") % {"d": UPLOAD_DAYS_AFTER}]
    province = province_of(organization)
    if province is None:
        return None, [_("本单位未设置所在地区，无法计入省份排行榜，请先完善单位信息。")]
    data = upload.read(sheets.MAX_BYTES + 1)
    digest = hashlib.sha256(data).hexdigest()
    import io

    try:
        rows = sheets.read_template(io.BytesIO(data), HEADERS, required=("name", "score"), max_rows=MAX_ROWS)
    except ValidationError as exc:
        return None, list(exc.messages)
    problems, scores, names = [], [], []
    for number, values in rows.rows:
        try:
            name = clean_text(values.get("name", ""), max_length=32, label="姓名")
        except ValidationError as exc:
            problems.append(f"第{number}行 {exc.messages[0]}")
            continue
        if not name:
            problems.append(f"第{number}行 姓名不能为空")
            continue
        try:
            score = parse_int(values.get("score", ""), label="得分", min_value=0, max_value=100)
        except ValidationError as exc:
            problems.append(f"第{number}行 {exc.messages[0]}")
            continue
        names.append(name)
        scores.append(score)
    if not scores and not problems:
        problems.append(_("文件中没有成绩"))
    if problems:
        return None, problems
    if OfflineBatch.objects.filter(round=round, organization=organization, sha256=digest).exists():
        return None, [_("这个文件已经上传过，成绩不会重复计入。")]
    with serialized_write():
        batch = OfflineBatch.objects.create(
            round=round,
            organization=organization,
            province=province,
            uploaded_by=actor,
            uploaded_at=clock.now(),
            file_name=clean_text(getattr(upload, "name", ""), strip=True)[:200],
            sha256=digest,
            participants=len(scores),
            score_sum=sum(scores),
            passed=sum(1 for s in scores if s >= round.pass_mark),
        )
        OfflineResult.objects.bulk_create(
            [
                OfflineResult(batch=batch, name=n, score=s, passed=s >= round.pass_mark)
                for n, s in zip(names, scores, strict=True)
            ],
            batch_size=1000,
        )
        boards.count_offline(
            round.pk, province=province, unit=organization, scores=scores, pass_mark=round.pass_mark
        )
        record(
            "quiz.offline_uploaded",
            actor=actor,
            obj=batch,
            organization=organization,
            data={"round": round.slug, "participants": batch.participants},
        )
    return batch, []
