//! Writing a world directory (see the README).
