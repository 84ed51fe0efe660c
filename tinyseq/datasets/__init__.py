"""Small data that tinyseq makes or ships, and readers for standard formats.

    atis_format   slot-filling corpora: SlotExample, SlotCorpus, and the ATIS/SNIPS folder layout
                  (train/ valid/ test/ with seq.in, seq.out, label) read and written
    flights       a synthetic ATIS-style flight-request corpus with held-out templates
    glyphs        synthetic text-line images for CTC recognition
    long_range    the adding problem and copy-memory tasks
    spoken_digits the Free Spoken Digit Dataset read from a folder, and connected digit strings

Each module is imported on its own (tinyseq.datasets.flights, ...); the slot-filling names are
also available here.
"""

from .atis_format import SlotCorpus, SlotExample, check_bio, read_slot_folder, write_slot_folder
from .flights import contrast_pairs, make_flights_corpus, write_flights_corpus
from .spoken_digits import index_recordings, make_strings, split_recordings

__all__ = [
    "SlotCorpus",
    "SlotExample",
    "check_bio",
    "contrast_pairs",
    "index_recordings",
    "make_flights_corpus",
    "make_strings",
    "read_slot_folder",
    "split_recordings",
    "write_flights_corpus",
    "write_slot_folder",
]
