//! Reading a world directory (see the README).
