"""The CIFAR-10 CNN lesson: frame and navigation (run with `streamlit run app.py`)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cifar_core import passcode
from cifar_core.training import warmup
from ui.common import available_steps
from ui.compat import app_navigation, keep_keras_state_between_reruns, serialize_ast_parsing
from ui.identity import keep_key_in_browser

HERE = Path(__file__).parent


def main() -> None:
    st.set_page_config(page_title="CIFAR-10: your first CNN", page_icon="🧠", layout="wide")
    keep_keras_state_between_reruns()  # training threads use Keras while scripts rerun
    serialize_ast_parsing()  # scripts are parsed while training threads parse (Python 3.11.7)
    keep_key_in_browser()  # the student's runs stay theirs across a reload (ui.identity)
    # Home first, then the lesson's pages in lesson order (see LESSON_STEPS).
    pages = [st.Page(HERE / "pages/home.py", title="Home", icon="🏠", default=True)]
    pages += [
        st.Page(HERE / step.path, title=step.title, icon=step.icon, url_path=step.url_path)
        for step in available_steps()
    ]
    if passcode.configured():  # no passcode set: no teacher page, not even by direct link
        pages.append(
            st.Page(HERE / "pages/teacher.py", title="Teacher", icon="🧑‍🏫", url_path="teacher")
        )
    with app_navigation():  # pages can tell they run here (ui/compat.require_app_navigation)
        st.navigation(pages).run()
    # Once per server, a few seconds after this first page is drawn: TensorFlow, the data and
    # the precision get ready in the background, off the first Train click's clock.
    warmup.start()


main()
