"""The one photo upload of the app: a student's own picture, decoded safely, once per file.

The Augmentation lab and Shallow vs deep both take a photo through `photo_upload`: the same
file types and size limit, the same rules said up front, the same messages for a file that is
not a usable image. The file is only ever decoded as an image (never unpickled or loaded as a
model), and only small versions of it are kept.
"""

from __future__ import annotations

from typing import NamedTuple

import streamlit as st

from cifar_core.augmentation.preview import UploadPreview, prepare_upload, upload_rules
from cifar_core.constants import MAX_UPLOAD_MB
from cifar_core.images import ALLOWED_TYPES, ImageDecodeError


class Upload(NamedTuple):
    """What the box holds: the photo (None if there is none or it is not usable) and its name."""

    photo: UploadPreview | None
    name: str
    file_id: str


# Decoded once per uploaded file (keyed by the upload's id), a refusal included (the page
# reruns for every widget change and live-chart poll); only small versions are kept.
@st.cache_data(max_entries=4, show_spinner=False)
def prepared_upload(file_id: str, _data: bytes) -> UploadPreview | str:
    try:
        return prepare_upload(_data)
    except ImageDecodeError as exc:
        return str(exc)  # the message for the student


def photo_upload(label: str, key: str) -> Upload | None:
    """The upload box with its rules; None while it is empty.

    A file that is not a usable image gets its message here (what is wrong and what to do);
    the result then has `photo` None, so the page can say what it shows instead.
    """
    upload = st.file_uploader(
        f"{label} (JPEG, PNG, WebP, BMP or GIF, up to {MAX_UPLOAD_MB} MB)",
        type=list(ALLOWED_TYPES),
        max_upload_size=MAX_UPLOAD_MB,
        key=key,
    )
    # A file over the limit never reaches this script (the box refuses it in the browser): the
    # rules are said up front, with what the student will see and how to fix it.
    st.caption(upload_rules(MAX_UPLOAD_MB))
    if upload is None:
        return None
    photo = prepared_upload(upload.file_id, upload.getvalue())
    if isinstance(photo, str):
        st.error(photo, icon="⚠️")
        return Upload(None, upload.name, upload.file_id)
    return Upload(photo, upload.name, upload.file_id)
