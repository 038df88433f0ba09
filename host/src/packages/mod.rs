//! Package import (Cerb's JSON package format).
