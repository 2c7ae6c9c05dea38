//! Importers of real datasets into the world format: ciao, lastfm, snap.
