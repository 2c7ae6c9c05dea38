//! Reading friendship graphs: SNAP edge lists and TSV with a `user_a<TAB>user_b` header.
