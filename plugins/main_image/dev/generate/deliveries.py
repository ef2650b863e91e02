"""Delivery 1 and the follow-up deliveries of one block of hotels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from main_image.dev.generate.config import (
    NEW_IMAGES_MEAN,
    P_CLEAR_OVERRIDE,
    P_DEACTIVATE,
    P_LATE_SCORE,
    P_MAIN_IMAGE,
    P_MAIN_IMAGE_NO_IMAGES,
    P_MAIN_NULL,
    P_MAIN_OTHER_ID,
    P_NEW_URL,
    P_OVERRIDE,
    P_REACTIVATE,
    P_RESCORE_V2,
    P_RESEND,
    P_RETAG_V5,
    PENDING,
    TAGGED,
    UNKNOWN_ORDINAL,
    Delivery,
    GenerateConfig,
    image_ids,
)
from main_image.dev.generate.feeds import (
    CDN_PREFIX,
    HOTEL_DIGITS,
    IMAGE_ID_DIGITS,
    draw_events,
    event_rows,
    image_rows,
    override_rows,
    score_rows,
    tag_rows,
)
from main_image.dev.generate.images import (
    Block,
    draw_image_counts,
    new_images,
    ragged_arange,
    random_u64,
)
from main_image.dev.generate.lines import Lines, Tables, or_null
from main_image.dev.generate.searches import session_event_rows
from main_image.dev.generate.streams import Analytics


@dataclass(frozen=True)
class FollowUp:
    """Hotels touched by one follow-up delivery (sorted) and its anchor hotel."""

    touched: np.ndarray
    anchor: int


def plan_follow_ups(config: GenerateConfig) -> list[FollowUp]:
    """Per follow-up delivery: ``change_fraction`` of the hotels (at least one), drawn globally."""
    plans = []
    for k in range(2, config.deliveries + 1):
        if config.hotels == 0:
            plans.append(FollowUp(np.zeros(0, dtype=np.int64), 0))
            continue
        rng = np.random.default_rng([config.seed, 1_000_003, k])
        n = min(config.hotels, max(1, round(config.change_fraction * config.hotels)))
        touched = rng.choice(config.hotels, n, replace=False).astype(np.int64) + 1
        plans.append(FollowUp(np.sort(touched), int(touched[0])))
    return plans


def start_block(
    rng: np.random.Generator, first_hotel: int, size: int, anchors: np.ndarray,
    analytics: Analytics | None = None,
) -> Block:
    """Draw the initial images of hotels ``first_hotel ..``; anchors get >= 3 images."""
    counts = draw_image_counts(rng, size)
    local_anchors = anchors - first_hotel
    counts[local_anchors] = np.maximum(counts[local_anchors], 3)
    hotel = np.repeat(np.arange(size, dtype=np.int64) + first_hotel, counts)
    images = new_images(rng, hotel, ragged_arange(counts), as_of_day=0, recent=False)
    is_anchor = np.isin(hotel, anchors)
    images.tag_state[is_anchor] = PENDING  # the anchor's tags arrive in its follow-up delivery
    images.active[is_anchor & (images.ordinal < 2)] = True
    return Block(first_hotel, size, rng, images, counts, analytics)


def first_delivery(block: Block, tables: Tables, rate: float) -> Delivery:
    """Delivery 1: all initial images (shuffled), on-time tags, scores, main images, events."""
    rng, images = block.rng, block.images
    rows = rng.permutation(len(images.hotel))
    tagged = np.flatnonzero(images.tag_state == TAGGED)
    scored = np.flatnonzero(images.score_version > 0)
    return {
        "images": [image_rows(tables, images, rows, _seed(block))],
        "image_tags": [tag_rows(rng, tables, images.ids(tagged), version=0)],
        "obiq_scores": [score_rows(rng, tables, images.ids(scored), "v1")],
        "main_images": [main_image_rows(block)],
        "user_events": [_user_events(block, tables, 0, rate)],
    }


def _seed(block: Block) -> int | None:
    return None if block.analytics is None else block.analytics.seed


def _user_events(block: Block, tables: Tables, as_of_day: int, rate: float) -> np.ndarray:
    """The block's events (main stream); with analytics, carrying the searched terms."""
    events = draw_events(block, as_of_day, rate)
    if block.analytics is None:
        return event_rows(tables, events)
    return session_event_rows(tables, block.analytics, events)


def main_image_rows(block: Block) -> np.ndarray:
    """The frontend's current main images: mostly an image of the hotel, some unknown ids."""
    rng, counts, images = block.rng, block.image_count, block.images
    u = rng.random(block.size)
    chosen = np.where(counts > 0, u < P_MAIN_IMAGE, u < P_MAIN_IMAGE_NO_IMAGES)
    local = np.flatnonzero(chosen)
    n = len(local)
    ordinal = (rng.random(n) * counts[local]).astype(np.int64)
    unknown = (counts[local] == 0) | (rng.random(n) < P_MAIN_OTHER_ID)
    ordinal[unknown] = UNKNOWN_ORDINAL
    url_a, url_b = random_u64(rng, n), random_u64(rng, n)  # kept for unknown ids
    row = ((np.cumsum(counts) - counts)[local] + ordinal)[~unknown]  # images are hotel-sorted
    url_a[~unknown], url_b[~unknown] = images.url_a[row], images.url_b[row]
    hotel = local + block.first_hotel
    value = Lines(n).text('{"image_id":').integer(image_ids(hotel, ordinal), IMAGE_ID_DIGITS)
    value.text(f',"cdn_url":"{CDN_PREFIX}').hex(url_a).hex(url_b).text('.jpg"}')
    null = rng.random(n) < P_MAIN_NULL
    lines = Lines(n).text('{"key":{"hotel_id":').integer(hotel, HOTEL_DIGITS)
    return lines.text('},"value":').raw(or_null(value.matrix(), null)).text("}").lines()


def follow_up(
    block: Block, tables: Tables, plan: FollowUp, as_of_day: int, rate: float
) -> Delivery:
    """A follow-up delivery: changes for the touched hotels of the block, plus user events."""
    lo, hi = np.searchsorted(plan.touched, [block.first_hotel, block.first_hotel + block.size])
    touched = block.local(plan.touched[lo:hi])
    in_block = block.first_hotel <= plan.anchor < block.first_hotel + block.size
    anchor = plan.anchor - block.first_hotel if in_block else -1
    is_touched = np.zeros(block.size, dtype=bool)
    is_touched[touched] = True

    old = np.flatnonzero(is_touched[block.local(block.images.hotel)])
    was_pending = old[block.images.tag_state[old] == PENDING]
    was_tagged = old[(block.images.tag_state[old] == TAGGED) & ~block.images.has_v5[old]]
    changed = _change_images(block, old, anchor)
    new = _add_images(block, touched, as_of_day)
    images, rng = block.images, block.rng

    retag = was_tagged[rng.random(len(was_tagged)) < P_RETAG_V5]
    images.has_v5[retag] = True
    v4_tagged = np.concatenate([was_pending, new[images.tag_state[new] == TAGGED]])
    images.tag_state[was_pending] = TAGGED
    rescore = _rescore(block, old, new)

    delivered = np.concatenate([changed, new])
    shuffled = rng.permutation(len(delivered))
    return {
        "images": [image_rows(tables, images, delivered[shuffled], _seed(block))],
        "image_tags": [
            tag_rows(rng, tables, images.ids(v4_tagged), version=0),
            tag_rows(rng, tables, images.ids(retag), version=1),
        ],
        "obiq_scores": [
            score_rows(rng, tables, images.ids(rescore[0]), "v1"),
            score_rows(rng, tables, images.ids(rescore[1]), "v2"),
        ],
        "admin_overrides": [_overrides(block, tables, touched, anchor, as_of_day)],
        "user_events": [_user_events(block, tables, as_of_day, rate)],
    }


def _change_images(block: Block, old: np.ndarray, anchor: int) -> np.ndarray:
    """Deactivate, reactivate, re-URL or re-send some earlier images; returns changed rows."""
    images, rng = block.images, block.rng
    u = rng.random((4, len(old)))
    active = images.active[old]
    deactivate = active & (u[0] < P_DEACTIVATE)
    reactivate = ~active & (u[1] < P_REACTIVATE)
    new_url = active & ~deactivate & (u[2] < P_NEW_URL)
    resend = u[3] < P_RESEND
    at_anchor = block.local(images.hotel[old]) == anchor
    deactivate |= at_anchor & (images.ordinal[old] == 0)  # always one deactivation
    keep = at_anchor & (images.ordinal[old] == 1)  # the anchor's override target stays active
    deactivate &= ~keep
    reactivate |= keep & ~active

    images.active[old[deactivate]] = False
    images.active[old[reactivate]] = True
    rows = old[new_url]
    images.url_a[rows] = random_u64(rng, len(rows))
    images.url_b[rows] = random_u64(rng, len(rows))
    return old[deactivate | reactivate | new_url | resend]


def _add_images(block: Block, touched: np.ndarray, as_of_day: int) -> np.ndarray:
    """Append new images for the touched hotels; returns their rows."""
    counts = block.image_count
    room = np.maximum(UNKNOWN_ORDINAL - counts[touched], 0)
    n_new = np.minimum(block.rng.poisson(NEW_IMAGES_MEAN, len(touched)), room)
    ordinal = ragged_arange(n_new) + np.repeat(counts[touched], n_new)
    hotel = np.repeat(touched, n_new) + block.first_hotel
    first_row = len(block.images.hotel)
    block.images.append(new_images(block.rng, hotel, ordinal, as_of_day, recent=True))
    counts[touched] += n_new
    return np.arange(first_row, first_row + len(hotel))


def _rescore(block: Block, old: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows getting a v1 score (new images, late scores) and rows getting a v2 score."""
    images, rng = block.images, block.rng
    version = images.score_version[old]
    late = old[(version == 0) & (rng.random(len(old)) < P_LATE_SCORE)]
    v2 = old[(version == 1) & (rng.random(len(old)) < P_RESCORE_V2)]
    images.score_version[late] = 1
    images.score_version[v2] = 2
    return np.concatenate([late, new[images.score_version[new] > 0]]), v2


def _overrides(
    block: Block, tables: Tables, touched: np.ndarray, anchor: int, as_of_day: int
) -> np.ndarray:
    """Overrides to a random active image for some touched hotels, and a few clears."""
    images, rng = block.images, block.rng
    u = rng.random((2, len(touched)))
    wants = touched[(u[0] < P_OVERRIDE) | (touched == anchor)]
    clears = touched[(u[0] >= P_OVERRIDE) & (u[1] < P_CLEAR_OVERRIDE) & (touched != anchor)]
    wanted = np.zeros(block.size, dtype=bool)
    wanted[wants] = True
    candidates = np.flatnonzero(images.active & wanted[block.local(images.hotel)])
    local = block.local(images.hotel[candidates])
    preferred = (local == anchor) & (images.ordinal[candidates] == 1)
    order = np.lexsort((rng.random(len(candidates)), ~preferred, local))
    candidates, local = candidates[order], local[order]
    first = np.flatnonzero(np.r_[True, local[1:] != local[:-1]]) if len(local) else local
    target = candidates[first]
    hotel = np.concatenate([images.hotel[target], clears + block.first_hotel])
    image_id = np.concatenate([images.ids(target), np.full(len(clears), -1)])
    return override_rows(rng, tables, hotel, image_id, as_of_day)


