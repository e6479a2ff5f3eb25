"""Bias and privacy, the text: sections, references, discussion questions and the quiz (data).

Every factual claim carries a citation such as "[Buolamwini & Gebru 2018]"; each cited key is
the `key` of one Reference below, and tests check that every citation resolves and every
reference is cited. Figures come from the sources only; items the team could not verify
offline are left out on purpose.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from cifar_core.constants import SIMULATED_PAIRS


@dataclass(frozen=True)
class Reference:
    """One source.

    Attributes:
        key: how the text cites it, e.g. "Grother et al. 2019" (cited as "[Grother et al. 2019]").
        authors: authors or issuing body.
        year: year of publication or decision.
        title: title (the original language for decisions).
        venue: journal, proceedings, publisher or register, with identifiers and dates.
        url: a DOI, arXiv or official page.
    """

    key: str
    authors: str
    year: int
    title: str
    venue: str
    url: str

    def markdown(self) -> str:
        """One line of the reference list."""
        return (
            f"**{self.key}.** {self.authors} ({self.year}). *{self.title}*. {self.venue}. "
            f"[{self.url}]({self.url})"
        )


@dataclass(frozen=True)
class Section:
    """A section of the page: a heading and paragraphs of Markdown."""

    key: str
    title: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class QuizOption:
    """One answer of a quiz question, with the feedback shown when it is picked."""

    text: str
    correct: bool
    feedback: str


@dataclass(frozen=True)
class QuizItem:
    """A multiple-choice question (exactly one option is correct)."""

    key: str
    question: str
    options: tuple[QuizOption, ...]

    @property
    def correct_option(self) -> QuizOption:
        """The right answer."""
        return next(option for option in self.options if option.correct)


# --- References (alphabetical by key) ------------------------------------------------------------

REFERENCES: tuple[Reference, ...] = (
    Reference(
        key="ACLU 2022",
        authors="American Civil Liberties Union",
        year=2022,
        title="ACLU v. Clearview AI",
        venue="Case page, Circuit Court of Cook County, Illinois, No. 2020 CH 04353; settled May 2022",
        url="https://www.aclu.org/cases/aclu-v-clearview-ai",
    ),
    Reference(
        key="Almeida et al. 2022",
        authors="Almeida, D., Shmarko, K., & Lomas, E.",
        year=2022,
        title=(
            "The ethics of facial recognition technologies, surveillance, and accountability in "
            "an age of artificial intelligence: a comparative analysis of US, EU, and UK "
            "regulatory frameworks"
        ),
        venue="AI and Ethics 2(3):377–387, doi:10.1007/s43681-021-00077-w",
        url="https://doi.org/10.1007/s43681-021-00077-w",
    ),
    Reference(
        key="BIPA 2008",
        authors="Illinois General Assembly",
        year=2008,
        title="Biometric Information Privacy Act, 740 ILCS 14",
        venue="Illinois Compiled Statutes; damages in 740 ILCS 14/20",
        url="https://www.ilga.gov/legislation/ilcs/ilcs3.asp?ActID=3004&ChapterID=57",
    ),
    Reference(
        key="BIPA amendment 2024",
        authors="Illinois General Assembly",
        year=2024,
        title="Public Act 103-0769 (SB 2979), amending the Biometric Information Privacy Act",
        venue=(
            "Signed 2 August 2024, effective immediately; adds subsections (b) and (c) to "
            "740 ILCS 14/20"
        ),
        url="https://www.ilga.gov/legislation/publicacts/fulltext.asp?Name=103-0769",
    ),
    Reference(
        key="Buolamwini & Gebru 2018",
        authors="Buolamwini, J., & Gebru, T.",
        year=2018,
        title=(
            "Gender Shades: Intersectional Accuracy Disparities in Commercial Gender Classification"
        ),
        venue=(
            "Proceedings of the 1st Conference on Fairness, Accountability and Transparency, "
            "PMLR 81:77–91"
        ),
        url="https://proceedings.mlr.press/v81/buolamwini18a.html",
    ),
    Reference(
        key="Carlini et al. 2019",
        authors="Carlini, N., Liu, C., Erlingsson, Ú., Kos, J., & Song, D.",
        year=2019,
        title=(
            "The Secret Sharer: Evaluating and Testing Unintended Memorization in Neural Networks"
        ),
        venue="28th USENIX Security Symposium (USENIX Security 2019); arXiv:1802.08232",
        url="https://arxiv.org/abs/1802.08232",
    ),
    Reference(
        key="CNIL 2022",
        authors="Commission nationale de l'informatique et des libertés (CNIL), France",
        year=2022,
        title="Facial recognition: 20 million euros penalty against CLEARVIEW AI",
        venue="Press release, 20 October 2022 (restricted committee deliberation SAN-2022-019)",
        url="https://www.cnil.fr/en/facial-recognition-20-million-euros-penalty-against-clearview-ai",
    ),
    Reference(
        key="CNIL 2023",
        authors="Commission nationale de l'informatique et des libertés (CNIL), France",
        year=2023,
        title="Facial recognition: the CNIL imposes a penalty payment on CLEARVIEW AI",
        venue="Press release, May 2023",
        url="https://www.cnil.fr/en/facial-recognition-cnil-imposes-penalty-payment-clearview-ai",
    ),
    Reference(
        key="Dutch DPA 2024",
        authors="Autoriteit Persoonsgegevens (Dutch Data Protection Authority)",
        year=2024,
        title=(
            "Dutch DPA imposes a fine on Clearview because of illegal data collection for "
            "facial recognition"
        ),
        venue=(
            "Decision of 16 May 2024 (breaches of GDPR Arts. 5, 6, 9(1), 12, 14, 15 and 27), "
            "published with this press release on 3 September 2024"
        ),
        url=(
            "https://www.autoriteitpersoonsgegevens.nl/en/current/dutch-dpa-imposes-a-fine-on-"
            "clearview-because-of-illegal-data-collection-for-facial-recognition"
        ),
    ),
    Reference(
        key="Garante 2022",
        authors="Garante per la protezione dei dati personali, Italy",
        year=2022,
        title="Ordinanza ingiunzione nei confronti di Clearview AI",
        venue=("Injunction order of 10 February 2022, doc. web n. 9751362; announced 9 March 2022"),
        url="https://www.gpdp.it/garante/doc.jsp?ID=9751362",
    ),
    Reference(
        key="GDPR 2016",
        authors="European Parliament and Council of the European Union",
        year=2016,
        title="Regulation (EU) 2016/679 (General Data Protection Regulation)",
        venue=(
            "Official Journal of the European Union L 119, 4 May 2016; Art. 9 special "
            "categories of personal data, Art. 15 right of access, Art. 27 EU representatives"
        ),
        url="https://eur-lex.europa.eu/eli/reg/2016/679/oj",
    ),
    Reference(
        key="Grother et al. 2019",
        authors="Grother, P., Ngan, M., & Hanaoka, K.",
        year=2019,
        title="Face Recognition Vendor Test (FRVT) Part 3: Demographic Effects",
        venue="NISTIR 8280, National Institute of Standards and Technology, doi:10.6028/NIST.IR.8280",
        url="https://doi.org/10.6028/NIST.IR.8280",
    ),
    Reference(
        key="HDPA 2022",
        authors="Hellenic Data Protection Authority, Greece",
        year=2022,
        title="Hellenic DPA fines Clearview AI 20 million euros",
        venue="Decision 35/2022 of 13 July 2022, as announced by the European Data Protection Board",
        url="https://www.edpb.europa.eu/news/national-news/2022/hellenic-dpa-fines-clearview-ai-20-million-euros_en",
    ),
    Reference(
        key="Hill 2020",
        authors="Hill, K.",
        year=2020,
        title="The Secretive Company That Might End Privacy as We Know It",
        venue="The New York Times, 18 January 2020",
        url="https://www.nytimes.com/2020/01/18/technology/clearview-privacy-facial-recognition.html",
    ),
    Reference(
        key="ICO 2022",
        authors="Information Commissioner's Office, United Kingdom",
        year=2022,
        title=(
            "ICO fines facial recognition database company Clearview AI Inc more than £7.5m and "
            "orders UK data to be deleted"
        ),
        venue="News release, May 2022",
        url=(
            "https://ico.org.uk/about-the-ico/media-centre/news-and-blogs/2022/05/"
            "ico-fines-facial-recognition-database-company-clearview-ai-inc/"
        ),
    ),
    Reference(
        key="Mitchell et al. 2019",
        authors=(
            "Mitchell, M., Wu, S., Zaldivar, A., Barnes, P., Vasserman, L., Hutchinson, B., "
            "Spitzer, E., Raji, I. D., & Gebru, T."
        ),
        year=2019,
        title="Model Cards for Model Reporting",
        venue=(
            "Conference on Fairness, Accountability, and Transparency (FAT* 2019), 220–229, "
            "doi:10.1145/3287560.3287596; arXiv:1810.03993"
        ),
        url="https://arxiv.org/abs/1810.03993",
    ),
    Reference(
        key="Najibi 2020",
        authors="Najibi, A.",
        year=2020,
        title="Racial Discrimination in Face Recognition Technology",
        venue="Science in the News, Harvard University",
        url="https://sitn.hms.harvard.edu/flash/2020/racial-discrimination-in-face-recognition-technology/",
    ),
    Reference(
        key="Sarabdeen 2022",
        authors="Sarabdeen, J.",
        year=2022,
        title="Protection of the rights of individuals when using facial recognition technology",
        venue="Heliyon 8(3), e09086 (PMC8927940)",
        url="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC8927940/",
    ),
    Reference(
        key="Shokri et al. 2017",
        authors="Shokri, R., Stronati, M., Song, C., & Shmatikov, V.",
        year=2017,
        title="Membership Inference Attacks against Machine Learning Models",
        venue="IEEE Symposium on Security and Privacy (S&P) 2017; arXiv:1610.05820",
        url="https://arxiv.org/abs/1610.05820",
    ),
    Reference(
        key="UKUT 2025",
        authors="Upper Tribunal (Administrative Appeals Chamber), United Kingdom",
        year=2025,
        title=(
            "The Information Commissioner v Clearview AI Inc (Privacy International "
            "intervening), [2025] UKUT 319 (AAC)"
        ),
        venue="Decision of 6 October 2025",
        url=(
            "https://www.gov.uk/administrative-appeals-tribunal-decisions/the-information-"
            "commissioners-office-v-clearview-ai-inc-privacy-international-intervening-2025-"
            "ukut-319-aac"
        ),
    ),
    Reference(
        key="Wilson et al. 2019",
        authors="Wilson, B., Hoffman, J., & Morgenstern, J.",
        year=2019,
        title="Predictive Inequity in Object Detection",
        venue="arXiv:1902.11097",
        url="https://arxiv.org/abs/1902.11097",
    ),
    Reference(
        key="Yeom et al. 2018",
        authors="Yeom, S., Giacomelli, I., Fredrikson, M., & Jha, S.",
        year=2018,
        title="Privacy Risk in Machine Learning: Analyzing the Connection to Overfitting",
        venue="IEEE Computer Security Foundations Symposium (CSF) 2018; arXiv:1709.01604",
        url="https://arxiv.org/abs/1709.01604",
    ),
)

# --- The page's text ---------------------------------------------------------------------------

TITLE = "Bias & privacy: when the images are faces"

INTRO = (
    "You just trained a network to tell cats from trucks. Swap CIFAR-10 for photos of people and "
    "much of your code carries over: a face-recognition model is built from the same kind of "
    "convolutions and trained by the same kind of loop. It is scored differently, though: a "
    "face-verification system is judged by two error rates at a chosen match threshold, its "
    "**false-match** and **false-non-match** rates, not by accuracy over classes "
    "[Grother et al. 2019]. And what a mistake, or a leak, costs is now paid by a person. This "
    "page sets out what is known, with dates and sources, and then tries three of the ideas: "
    "two on the model **you** trained, one on synthetic scores."
)

FACES = Section(
    "faces",
    "From CIFAR-10 to faces: same pipeline, different stakes",
    (
        "A photo of a truck says nothing about anyone. A photo of a face tied to a name is "
        "**personally identifiable information (PII)**: it points to one person, and unlike a "
        "password it cannot be changed after a leak.",
        "In the European Union, the General Data Protection Regulation treats biometric data "
        "used to identify a person as a **special category** of personal data (Article 9): "
        "processing it is prohibited unless one of a few listed exceptions applies, such as the "
        "person's explicit consent [GDPR 2016].",
        "In the United States the rules are a patchwork, with less emphasis on data protection "
        "[Almeida et al. 2022]. One state law stands out. Illinois' "
        "**Biometric Information Privacy Act** (BIPA, 740 ILCS 14) requires a company to get a "
        "person's written consent before it collects biometric identifiers such as a scan of face "
        "geometry, and lets people sue: $1,000 for each negligent violation and $5,000 for each "
        "intentional or reckless one (740 ILCS 14/20) [BIPA 2008]. Because the amounts are per "
        "violation, a data set of many faces collected without consent is a large legal risk. "
        "Since a 2024 amendment, collecting the same person's biometrics again and again by the "
        "same method counts as a single violation, with at most one recovery per person "
        "[BIPA amendment 2024]: the risk grows with the number of people, not of scans.",
    ),
)

CLEARVIEW = Section(
    "clearview",
    "Clearview AI: a face search engine built from scraped photos",
    (
        "In January 2020, *The New York Times* reported on a little-known company, Clearview AI. "
        "Its app let a user upload a photo of a person and get back public photos of that person "
        "with links to where they appeared. The database behind it held about 3 billion images "
        "scraped from the web, and the app was sold largely to law-enforcement agencies "
        "[Hill 2020].",
        "The database kept growing: regulators later cited more than 10 billion images "
        "(Italy, 2022) [Garante 2022] and more than 30 billion (the Netherlands, 2024) "
        "[Dutch DPA 2024]. The people in those photos were not asked. The regulators' point was "
        "not that the photos were secret — they were public — but that turning them into "
        "biometric templates and a search service needed a legal basis that Clearview did not "
        "have [CNIL 2022; Dutch DPA 2024].",
        "**What regulators and courts did:**\n"
        "- **Italy** — the Garante fined Clearview €20 million (March 2022) [Garante 2022].\n"
        "- **Greece** — the Hellenic Data Protection Authority fined it €20 million (July 2022) "
        "[HDPA 2022].\n"
        "- **France** — the CNIL fined it €20 million (October 2022) [CNIL 2022], then added a "
        "€5.2 million overdue-penalty payment (May 2023) because the company had not complied "
        "with its order [CNIL 2023].\n"
        "- **The Netherlands** — the Autoriteit Persoonsgegevens fined it €30.5 million "
        "(decision of 16 May 2024, published 3 September 2024). It found breaches of GDPR "
        "Article 9(1) — processing biometric data, the special category above, without an "
        "exception that allows it — and of Articles 5, 6, 12, 14, 15 (the right of access) and "
        "27 (the duty to name a representative in the EU) [Dutch DPA 2024; GDPR 2016].\n"
        "- **United Kingdom** — the Information Commissioner's Office fined it £7.55 million and "
        "ordered UK data deleted (May 2022) [ICO 2022]. In October 2023 the First-tier Tribunal "
        "overturned this, holding that the ICO had no jurisdiction because Clearview served only "
        "foreign law-enforcement and government clients; on 6 October 2025 the Upper Tribunal "
        "reversed that ruling, confirmed the ICO's jurisdiction and sent the case back to the "
        "First-tier Tribunal [UKUT 2025].\n"
        "- **United States** — the ACLU sued under BIPA. In the settlement of May 2022, "
        "Clearview accepted a permanent, nationwide ban on selling access to its database to "
        "most private companies, and agreed not to sell to any Illinois entity, police "
        "included, for five years [ACLU 2022].",
    ),
)

ACCURACY = Section(
    "accuracy",
    "Accuracy is not equal across groups",
    (
        "In 2018, Joy Buolamwini and Timnit Gebru tested commercial gender classifiers "
        '(systems that label a face "male" or "female") on a benchmark they built to be '
        "balanced: the **Pilot Parliaments Benchmark**, 1,270 faces of members of parliament from "
        "three African and three European countries. Every classifier did better on men than on "
        "women and on lighter than on darker skin. Error rates reached **34.7%** for "
        "darker-skinned women, while the highest error rate for lighter-skinned men was "
        "**0.8%** [Buolamwini & Gebru 2018].",
        "Why had this not shown up before? The benchmarks in common use were mostly "
        "lighter-skinned faces: 79.6% of IJB-A and 86.2% of Adience [Buolamwini & Gebru 2018]. "
        "A model can score well on a test set that barely contains the people it fails on.",
        "In 2019 the US National Institute of Standards and Technology (NIST) measured "
        "demographic effects at scale: 189 algorithms from 99 developers, on 18.27 million images "
        'of 8.49 million people. For one-to-one matching ("are these two photos the same '
        'person?"), many algorithms produced **10 to 100 times** more false positives for West '
        "and East African and East Asian faces than for Eastern European faces, and women had "
        "**2 to 5 times** more false positives than men. The differentials varied widely "
        "between algorithms, and some showed little [Grother et al. 2019; Najibi 2020]. So the "
        'useful question is not "is face recognition biased?" but "how does *this* algorithm, '
        'at *this* threshold, perform for each group?"',
        "**What a false match means for a person.** A *false match* says two photos show the "
        "same person when they do not; a *false non-match* misses a true match. When a phone "
        "unlocks by face, a false match lets a stranger in and a false non-match locks the owner "
        "out. When police search a photo against a large database, a false match points at an "
        "innocent person, who may then be questioned or worse. Which error costs more depends on "
        "the use, and when error rates differ by group, so do the costs [Grother et al. 2019].",
    ),
)

MEMORY = Section(
    "memory",
    "Models remember their training data",
    (
        "A trained network is a compressed summary of its training data, and sometimes it keeps "
        "more than a summary. Nicholas Carlini and colleagues planted made-up secrets, "
        '"canaries" — for example the sentence "my social security number is …" with random '
        "digits — in the training text of language models, and defined **exposure**, a measure "
        "of how much more likely the model finds the planted secret than random alternatives. "
        "The canaries were memorized early in training, not only once the model overfitted, and "
        "could be extracted by querying the model. From a model trained on the Enron e-mails "
        "they also extracted real credit-card numbers that appeared in those e-mails. Ordinary "
        "regularization did not prevent this; differentially private training did "
        "[Carlini et al. 2019].",
        "A different leak needs no memorized secret at all. A face model trained on scraped photos "
        "has, in a sense, met each of those people. If it behaves measurably differently on "
        "photos it was trained on — more confident, say — then anyone who can query it can "
        "guess whether a given person's photo was in its training set: **membership "
        "inference** [Shokri et al. 2017]. The simplest version compares the model's "
        "confidence with a threshold; overfitting is enough for it to work "
        '[Yeom et al. 2018]. For a data set collected without consent, "was in the training '
        'set" means "had their face collected".',
    ),
)

BEYOND = Section(
    "beyond",
    "Beyond faces: who is in the data",
    (
        "Unequal accuracy is not special to faces. Benjamin Wilson, Judy Hoffman and Jamie "
        "Morgenstern labelled the pedestrians in a driving data set by Fitzpatrick skin type (a "
        "dermatological scale) and found that standard object detectors were less accurate on "
        "pedestrians with darker skin types. Time of day and occlusion did not explain the gap; "
        "reweighting the training loss reduced it. They did not test any production self-driving "
        "system [Wilson et al. 2019].",
        "**How sampling bias gets into a data set.** Through every choice made while collecting "
        "it: which sources are scraped or photographed, who appears in them, which images a "
        "filter or a detector keeps, and who writes the labels. Each choice can leave some "
        "people rare or missing. A benchmark collected the convenient way can be heavily skewed, "
        "as IJB-A and Adience were [Buolamwini & Gebru 2018], and a model evaluated only on it "
        "looks better than it is for the people it rarely saw. CIFAR-10 has the same property "
        'in a harmless form: its "automobile" class holds the cars that happened to be '
        "photographed and labelled, and your model will do worse on cars that look different.",
    ),
)

RESPONSIBLE = Section(
    "responsible",
    "What responsible use looks like",
    (
        "- **Consent and a lawful basis.** Collect faces only with informed consent — in "
        'writing under BIPA [BIPA 2008], explicit under GDPR Article 9 [GDPR 2016]. "It was '
        'public on the web" was not accepted as a basis by European regulators '
        "[CNIL 2022; Dutch DPA 2024].\n"
        "- **Document the data set.** Write down where the images came from, who is in them and "
        "who is not, how they were labelled, and what they must not be used for. Gender Shades "
        "began with exactly this question: who is in the benchmark? "
        "[Buolamwini & Gebru 2018]\n"
        "- **Evaluate per group.** Report accuracy and both error rates for each group, not one "
        "overall number, and test the exact algorithm and threshold you deploy — the "
        "differentials vary widely between algorithms [Grother et al. 2019].\n"
        "- **Protect the training data.** Assume a model can leak what it was trained on; "
        "measure it, and use differentially private training where the data are sensitive "
        "[Carlini et al. 2019].\n"
        "- **Audit and be accountable.** Comparing the US, the EU and the UK, Almeida, Shmarko "
        "and Lomas find a US patchwork with less emphasis on data protection, an EU and UK "
        "focus on accountability under the GDPR and privacy by design, and no standard global "
        "framework. They call for data-protection and human-rights impact assessments, with "
        "more transparency, regulation, audit and explanation of how facial recognition is used "
        "[Almeida et al. 2022]. Sarabdeen reviews how the rights of individuals can be "
        "protected when the technology is used [Sarabdeen 2022].",
    ),
)

SECTIONS: tuple[Section, ...] = (FACES, CLEARVIEW, ACCURACY, MEMORY, BEYOND, RESPONSIBLE)

# --- The three interactive parts -------------------------------------------------------------------

PER_CLASS_TITLE = "Your model is not equally good at everything"
PER_CLASS_INTRO = (
    "Your CIFAR-10 network has the same property as the systems above: one overall accuracy "
    "hides large differences. Here is its test accuracy class by class, from a run you saved."
)
ONE_CLASS_NOTE = (
    "Some classes are never recognized at all. After a very short run a network often predicts "
    "only one or two classes for everything; train for more epochs to see a more telling "
    "pattern."
)
PER_CLASS_BRIDGE = (
    "**If these classes were groups of people…** the gap between your best and your worst class "
    "is the same kind of number Gender Shades measured, an accuracy gap between groups "
    "[Buolamwini & Gebru 2018], and the overall test accuracy hid it, just as it hid theirs. "
    "(NIST compared error rates at a match threshold instead, as the synthetic demo below "
    "does [Grother et al. 2019].) With "
    "CIFAR-10 part of the gap is that some classes are harder (cats and dogs look alike). With "
    "people, a gap can also come from who was missing from the data, and the people on the "
    "wrong side of it did not choose their group."
)
NO_RUN_TEXT = (
    "There is no saved run to look at yet, so this part shows no numbers rather than made-up "
    "ones. Train a model — even one epoch is enough — and come back: you will see your own "
    "model's accuracy for each class and how sure it is on the images it trained on."
)

THRESHOLD_TITLE = "One threshold, two groups"
THRESHOLD_INTRO = (
    "A face-verification system compares two photos and outputs a **match score**. Pairs of the "
    "same person (*genuine* pairs) should score high; pairs of different people (*impostor* "
    "pairs) should score low. One **threshold** decides: a score at or above it means "
    '"match". NIST measured false-positive differentials of 10 to 100 times between groups '
    "for many algorithms [Grother et al. 2019]; the toy below shows how a single threshold "
    "produces such differences when two groups' score distributions differ."
)
THRESHOLD_SYNTHETIC = (
    "**SYNTHETIC DATA.** Group A and Group B are made up: two bell curves per group, not scores "
    "from any real system or study. Change their parameters below."
)
THRESHOLD_METHOD = (
    "The rates are exact areas under the normal curves (computed with the error function). The "
    "table also shows what you would *measure* from a few thousand simulated comparisons per "
    f"group: a rate of 1 in 100,000 cannot be measured from {SIMULATED_PAIRS:,} impostor pairs. "
    "Measuring "
    "small error rates takes very large test sets; NIST's used 18.27 million images "
    "[Grother et al. 2019]."
)

MEMBERSHIP_TITLE = "Is your model surer of the images it trained on?"
MEMBERSHIP_INTRO = (
    "Your run saved the model's predictions on a sample of the training images it learned from "
    "(*members*) and on every test image it never saw (*non-members*). For each image, take the "
    "probability the model gave to the **true** class: its confidence in the right answer. If "
    "the model has overfitted — fits its training images better than new ones — the first "
    "distribution sits further right. The gap is an average over many images: it measures "
    "overfitting, not which individual images the model has memorized [Yeom et al. 2018]."
)
MEMBERSHIP_ATTACK = (
    'The simplest membership-inference attack guesses "this image was in the training set" '
    "whenever the confidence is at least some threshold *t* [Yeom et al. 2018]. (Shokri and "
    'colleagues, who first attacked machine-learning models this way, trained extra "shadow" '
    "models to decide instead [Shokri et al. 2017].) Below, *t* is chosen to give the "
    "best **balanced accuracy** (the average of the hit rates on members and on non-members, "
    "so 50% is a coin flip). Because *t* is picked knowing the answers, this is the best this "
    "one rule can do; a real attacker would have to estimate *t*. It also means the best *t* "
    "lands a little above 50% by luck alone, so the page also runs the attack on shuffled "
    "labels, where there is nothing to find, to show that chance level."
)
MODEL_CARD_TEXT = (
    "**This run's model card** puts its per-class accuracy (with 95% confidence intervals), "
    "its train–test gap and what that gap means for privacy, and the uses it is not fit for "
    "into one document, as model cards were proposed for every released model "
    "[Mitchell et al. 2019]."
)
MEMBERSHIP_SMALL = (
    "Your model barely tells its training images from new ones: the confidence gap is tiny, or "
    "the attack does no better than on shuffled labels. This simple test picks up the average "
    "difference that grows as a model overfits [Yeom et al. 2018], so train longer (more "
    "epochs, or fewer training images) and compare. A small gap here is not proof of safety, "
    "though: it is only the simplest attack, and planted secrets were memorized early in "
    "training, not only once a model overfits [Carlini et al. 2019]."
)
MEMBERSHIP_LARGE = (
    "Your model is measurably more confident on images it trained on: on average, it has "
    "overfitted. Anyone who can query it could use that difference to guess, better than "
    "chance, whether a given image was in its training set [Shokri et al. 2017; "
    "Yeom et al. 2018]. With faces, that means guessing whether a person's photo was "
    "collected. (The gap does not say which images, if any, the model memorized.)"
)

# --- Discussion and quiz ---------------------------------------------------------------------------

DISCUSSION_TITLE = "Questions for discussion"
DISCUSSION_QUESTIONS: tuple[str, ...] = (
    "Clearview's photos had all been posted publicly [Hill 2020]. Is collecting them into a "
    "face-search engine different from one person looking at them one by one? What changes "
    "with scale?",
    "Look at the gap between your model's best and worst class. If the classes were groups of "
    "people, how large a gap would be acceptable, and who should decide?",
    "At the default settings one threshold gave the two synthetic groups different "
    "false-match rates, and even where their false-match rates cross, their false-non-match "
    "rates differ. Would a separate threshold for each group be fair? What would the system "
    "need to know about each person to apply it?",
    "Which error is worse — a false match or a false non-match — for unlocking a phone? For a "
    "police search against a database? For an automated border gate?",
    "NIST found that the differentials varied widely between algorithms and some showed little "
    "[Grother et al. 2019]. If only the best algorithms were used, would that settle the "
    "question? What else would you want to know?",
    "A model trained on your photos might reveal that you were in its training set. When would "
    "that alone harm someone?",
    "Clearview is a US company, yet it was fined in Europe and its UK case went to the Upper "
    "Tribunal [UKUT 2025]. How can a law protect people from a company in another country?",
    "You are asked to build a face-recognition feature for your school. What would you write "
    "in the data set's documentation, and which per-group numbers would you report before "
    "anyone used it?",
)

QUIZ_TITLE = "Check your understanding"
# Written with the right answer first for the reader of this file; the page shows shuffled_quiz().
QUIZ: tuple[QuizItem, ...] = (
    QuizItem(
        "gender_shades",
        "In Gender Shades, which group had the highest error rates?",
        (
            QuizOption(
                "Darker-skinned women",
                True,
                "Right: error rates reached 34.7% for darker-skinned women "
                "[Buolamwini & Gebru 2018].",
            ),
            QuizOption(
                "Lighter-skinned men",
                False,
                "Not quite: lighter-skinned men were the best-served group — the highest error "
                "rate for them was 0.8% [Buolamwini & Gebru 2018].",
            ),
            QuizOption(
                "Darker-skinned men",
                False,
                "Not quite: the classifiers did worse on darker skin, but also worse on women "
                "than on men, so the worst group was darker-skinned women "
                "[Buolamwini & Gebru 2018].",
            ),
            QuizOption(
                "No group: the errors were equal",
                False,
                "Not quite: the point of the study is that one overall accuracy hid large "
                "differences between groups [Buolamwini & Gebru 2018].",
            ),
        ),
    ),
    QuizItem(
        "threshold",
        "In the threshold demo, what happens when you raise the threshold?",
        (
            QuizOption(
                "Fewer false matches, more false non-matches",
                True,
                "Right: fewer impostor scores reach the threshold, but more genuine scores fall "
                "below it. Moving the threshold trades one error for the other.",
            ),
            QuizOption(
                "Both error rates go down",
                False,
                "Not quite: with overlapping curves there is a trade-off — a higher threshold "
                "misses more genuine pairs.",
            ),
            QuizOption(
                "More false matches",
                False,
                "Not quite: a higher threshold lets fewer impostor pairs through, so false "
                "matches go down.",
            ),
            QuizOption(
                "The two groups' false-match rates become equal",
                False,
                "Not quite: in general they stay different. If one group's impostor scores "
                "spread wider, the two curves' tails cross at one threshold where the "
                "false-match rates are equal (try it in the demo), but the false-non-match "
                "rates there usually still differ.",
            ),
        ),
    ),
    QuizItem(
        "membership",
        "A model is clearly more confident on its training images than on new images. What "
        "does that make possible?",
        (
            QuizOption(
                "Guessing whether a given image was in the training set",
                True,
                "Right: that is membership inference [Shokri et al. 2017]; a confidence "
                "threshold alone can exploit an overfitted model [Yeom et al. 2018]. With faces "
                "it reveals whose photo was collected.",
            ),
            QuizOption(
                "Nothing: confidence scores reveal nothing about the training data",
                False,
                "Not quite: a difference in behaviour on seen and unseen data is exactly what "
                "an attacker can exploit [Yeom et al. 2018]; models can even leak secrets "
                "planted in their training data [Carlini et al. 2019].",
            ),
            QuizOption(
                "It proves the model is biased against the test images",
                False,
                "Not quite: higher average confidence on training data is a sign of "
                "overfitting, not of unfair treatment of a group.",
            ),
            QuizOption(
                "Ordinary regularization is guaranteed to remove the risk",
                False,
                "Not quite: Carlini et al. found that ordinary regularization did not stop "
                "planted secrets being memorized, while differentially private training did "
                "[Carlini et al. 2019].",
            ),
        ),
    ),
    QuizItem(
        "bipa",
        "Under Illinois' BIPA, what must a company have before it collects a person's face "
        "geometry?",
        (
            QuizOption(
                "The person's written consent",
                True,
                "Right: BIPA requires written consent, and allows $1,000 per negligent and "
                "$5,000 per intentional or reckless violation [BIPA 2008]; since 2024, repeated "
                "scans of one person by the same method count once [BIPA amendment 2024].",
            ),
            QuizOption(
                "Nothing, if the photo was public",
                False,
                "Not quite: a public photo is not consent. The ACLU's BIPA suit against "
                "Clearview ended in a settlement restricting who may use its database "
                "[ACLU 2022].",
            ),
            QuizOption(
                "A court warrant",
                False,
                "Not quite: BIPA regulates private companies' collection of biometric data "
                "and requires the person's written consent [BIPA 2008].",
            ),
            QuizOption(
                "Approval from an EU data protection authority",
                False,
                "Not quite: BIPA is an Illinois law; EU authorities enforce the GDPR "
                "[BIPA 2008; GDPR 2016].",
            ),
        ),
    ),
    QuizItem(
        "nist",
        "What did NIST's 2019 test find about demographic differentials across algorithms?",
        (
            QuizOption(
                "They varied widely, and some algorithms showed little",
                True,
                "Right: which is why each algorithm and threshold has to be tested per group "
                "[Grother et al. 2019].",
            ),
            QuizOption(
                "Every algorithm had exactly the same differentials",
                False,
                "Not quite: NIST stressed how much the differentials varied between "
                "algorithms [Grother et al. 2019].",
            ),
            QuizOption(
                "Women had fewer false positives than men",
                False,
                "Not quite: women had 2 to 5 times more false positives than men "
                "[Grother et al. 2019].",
            ),
            QuizOption(
                "There were no differences in one-to-one matching",
                False,
                "Not quite: in one-to-one matching many algorithms had 10 to 100 times more "
                "false positives for some groups [Grother et al. 2019].",
            ),
        ),
    ),
)


# The right answer must not always come first: deal its positions from shuffled rounds of
# 0..n-1 (every position is used before any repeats) and shuffle the wrong answers around it.
def shuffled_quiz(seed: int) -> tuple[QuizItem, ...]:
    """The quiz with each question's options in a seeded order (the page seeds it per session).

    Args:
        seed: the same seed always gives the same order.

    Returns:
        QUIZ with its options reordered; the correct answers' positions vary across questions.
    """
    rng = random.Random(seed)
    n_options = min(len(item.options) for item in QUIZ)
    positions: list[int] = []
    while len(positions) < len(QUIZ):
        positions += rng.sample(range(n_options), n_options)
    items = []
    for item, position in zip(QUIZ, positions, strict=False):
        options = [option for option in item.options if not option.correct]
        rng.shuffle(options)
        options.insert(position, item.correct_option)
        items.append(replace(item, options=tuple(options)))
    return tuple(items)


REFERENCES_TITLE = "References"

# --- Citations ---------------------------------------------------------------------------------

# "[Key 2019]" or "[Key 2019; Other 2020]", but not a Markdown link "[text](url)".
_CITATION = re.compile(r"\[([^\[\]]*?\b\d{4})\](?!\()")


def citations_in(text: str) -> list[str]:
    """The reference keys cited in a text, in order (repeats kept)."""
    return [key.strip() for group in _CITATION.findall(text) for key in group.split(";")]


def reference_by_key() -> dict[str, Reference]:
    """The references, looked up by their key."""
    return {ref.key: ref for ref in REFERENCES}


def all_texts() -> Iterator[str]:
    """Every piece of prose on the page that may cite a source."""
    yield INTRO
    for section in SECTIONS:
        yield from section.paragraphs
    yield from (
        PER_CLASS_INTRO,
        PER_CLASS_BRIDGE,
        ONE_CLASS_NOTE,
        NO_RUN_TEXT,
        THRESHOLD_INTRO,
        THRESHOLD_SYNTHETIC,
        THRESHOLD_METHOD,
        MEMBERSHIP_INTRO,
        MEMBERSHIP_ATTACK,
        MODEL_CARD_TEXT,
        MEMBERSHIP_SMALL,
        MEMBERSHIP_LARGE,
    )
    yield from DISCUSSION_QUESTIONS
    for item in QUIZ:
        yield item.question
        for option in item.options:
            yield option.text
            yield option.feedback


def cited_keys() -> set[str]:
    """Every key cited anywhere on the page."""
    return {key for text in all_texts() for key in citations_in(text)}
