"""Model card, the fixed text: its sources, the intended and out-of-scope uses, the data caveats.

Every claim carries its source as "(Key year)", the `key` of one Reference below; the
membership-inference sources are the Bias & privacy page's own (bias_privacy.content).
"""

from __future__ import annotations

from cifar_core.bias_privacy.content import Reference, reference_by_key
from cifar_core.constants import CLASS_NAMES, FULL_TEST_SIZE, FULL_TRAIN_SIZE

# The sources the card cites, in the order of its reference list.
MITCHELL = reference_by_key()["Mitchell et al. 2019"]  # also cited on Bias & privacy
KRIZHEVSKY = Reference(
    key="Krizhevsky 2009",
    authors="Krizhevsky, A.",
    year=2009,
    title="Learning Multiple Layers of Features from Tiny Images",
    venue=(
        "Technical report, University of Toronto; the data set's page, "
        "https://www.cs.toronto.edu/~kriz/cifar.html, lists its contents"
    ),
    url="https://www.cs.toronto.edu/~kriz/learning-features-2009-TR.pdf",
)
BARZ = Reference(
    key="Barz & Denzler 2020",
    authors="Barz, B., & Denzler, J.",
    year=2020,
    title="Do We Train on Test Data? Purging CIFAR of Near-Duplicates",
    venue="Journal of Imaging 6(6):41",
    url="https://doi.org/10.3390/jimaging6060041",
)
NORTHCUTT = Reference(
    key="Northcutt et al. 2021",
    authors="Northcutt, C. G., Athalye, A., & Mueller, J.",
    year=2021,
    title="Pervasive Label Errors in Test Sets Destabilize Machine Learning Benchmarks",
    venue="NeurIPS Datasets and Benchmarks 2021; the errors can be browsed at https://labelerrors.com",
    url="https://arxiv.org/abs/2103.14749",
)
SHOKRI = reference_by_key()["Shokri et al. 2017"]
YEOM = reference_by_key()["Yeom et al. 2018"]
REFERENCES: tuple[Reference, ...] = (MITCHELL, KRIZHEVSKY, BARZ, NORTHCUTT, SHOKRI, YEOM)

TITLE = "Model card: CIFAR-10 {model} CNN, run {run_id}"
FORMAT_NOTE = (
    "A model card in the sense of Mitchell et al. 2019: what the model is, what it was "
    "trained on, how well it does and where, and what it must not be used for. Every figure "
    "is computed from this run's saved files, or carries its source."
)

DATA_SET = (
    f"CIFAR-10: 60,000 colour images of 32×32 pixels in ten classes ({', '.join(CLASS_NAMES)}), "
    f"{FULL_TRAIN_SIZE:,} for training and {FULL_TEST_SIZE:,} for testing (1,000 of each class), "
    "a labelled subset of millions of tiny colour images collected from the web "
    "(Krizhevsky 2009)"
)

INTENDED_USE = (
    "Teaching: to see how a small convolutional network learns to tell ten kinds of tiny "
    "photos apart on CIFAR-10, and how its settings (network depth, number of images, "
    "epochs, optimizer, learning rate, augmentation) change what it learns and where it "
    "fails. It was trained by a student or teacher in the CIFAR-10 lesson app, as a classroom "
    "exercise.",
    "Intended users: students and teachers of a first course on neural networks.",
)

OUT_OF_SCOPE = (
    "Any decision about people (admissions, grading, hiring, policing, credit, access to a "
    "place or a service): the model knows nothing about people and was never evaluated for it.",
    "Identifying or recognising people, faces or anything personal: CIFAR-10 has no class for "
    "people, and this model was not built, tested or meant for it.",
    "Anything outside the ten classes: the model always answers one of "
    f"{', '.join(CLASS_NAMES)}, often with high confidence, even for a picture that shows none "
    "of them. It cannot say \u201cnone of these\u201d.",
    "Pictures unlike CIFAR-10's: it sees 32×32 pixels; its accuracy on other photos (larger, "
    "other cameras, other places) was not measured.",
)
# The last out-of-scope use; {size} is the run's own size, e.g. " (240 training images,
# 1 epoch completed)", or empty when the run's files do not tell it (card_data.benchmark_claims).
BENCHMARK_CLAIMS = (
    "Benchmark claims: this is one training run with one seed{size}, made in a lesson, not a "
    "benchmark result: another seed would train another model, with other figures."
)

CAVEATS = (
    "Tiny pictures: 32×32 pixels, so fine detail is gone and some images are hard even for "
    "people (Krizhevsky 2009).",
    "Near-duplicates: 3.3% of the CIFAR-10 test images have near-duplicates in the training "
    "set (Barz & Denzler 2020). A model can get those right by remembering, so test accuracy "
    "on CIFAR-10 slightly overstates accuracy on truly new pictures.",
    "Wrong labels: human-validated label errors exist in the CIFAR-10 test set (Northcutt et "
    "al. 2021; browse them at https://labelerrors.com). Some of the model's \u201cmistakes\u201d "
    "may be the label's.",
    "Photos collected from the web (Krizhevsky 2009): what they show, and how, reflects "
    "where and how the pictures were found, not the world at large.",
)

PRIVACY = (
    "Why the gap matters for privacy: a model that does better on the images it trained on "
    "than on new ones gives anyone who can query it a hint about which images were in its "
    "training set. Guessing that is a membership inference attack (Shokri et al. 2017); even "
    "the simplest attacks, which threshold the model's loss or confidence on an image, "
    "succeed more the more a model overfits, and a bigger train–test gap makes them easier "
    "(Yeom et al. 2018). The gap measures average overfitting; it does not say which "
    "individual images were memorised. With CIFAR-10 this is harmless; with photos of "
    "people, \u201cwas this person's photo in the training set?\u201d is itself private."
)

BOOTSTRAP_NOTE = (
    "The 95% confidence intervals are percentile bootstraps over the scored images "
    "({resamples:,} resamples, numpy Generator seeded {seed}): they show how much the figure "
    "would move with another draw of test images of the same kind. They do not cover the luck "
    "of training: the same settings with another seed train another model."
)

EDGE_NOTE = (
    "A class with no right answer (or no wrong one) among its test images gets an interval "
    "of zero width: resampling cannot show what never happened. Its true accuracy need not be "
    "exactly 0% (or 100%): more test images would tell."
)
