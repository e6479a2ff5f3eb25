"""Training: what a run is (config), the job that trains and saves it (job), the queue that
runs jobs (queue; who shares which job: sharing; its time estimates: estimates), the live
record a page polls (monitor, fed by callbacks), where a run's time goes (phases), the
precision it trains in (precision), the teacher's limits (limits), who is watching
(presence), the process's memory (memory) and the background warm-up.

The config and the job are this package's vocabulary: `from cifar_core.training import
TrainConfig, TrainingJob`.
"""

from cifar_core.training.config import TrainConfig as TrainConfig
from cifar_core.training.config import split_indices as split_indices
from cifar_core.training.job import MEMBERSHIP_SAMPLE as MEMBERSHIP_SAMPLE
from cifar_core.training.job import PREDICT_BATCH as PREDICT_BATCH
from cifar_core.training.job import PREFETCH_BATCHES as PREFETCH_BATCHES
from cifar_core.training.job import TrainingJob as TrainingJob
from cifar_core.training.job import build_compiled as build_compiled
from cifar_core.training.job import make_augment_fn as make_augment_fn
from cifar_core.training.job import make_dataset as make_dataset
from cifar_core.training.job import make_optimizer as make_optimizer
from cifar_core.training.job import predict_probs as predict_probs
from cifar_core.training.job import save_model_files as save_model_files
