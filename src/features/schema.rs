//! The feature schema: names, order, version and the fixed transform applied before
//! standardisation. Bump [`SCHEMA_VERSION`] whenever a name, order or definition changes;
//! saved models carry the version and the names and refuse to load against another schema.

/// Version of the feature schema (names, order and definitions).
pub const SCHEMA_VERSION: u32 = 4;

/// Number of features in a row.
pub const NUM_FEATURES: usize = 34;

/// Every feature, in row order. Definitions (all from data strictly before `as_of`):
///
/// - graph (viewer u -> author a; Backstrom & Kleinberg, CSCW 2014; README "Graph signals"):
///   `is_friend`, `embeddedness` |N(u)∩N(a)|, `jaccard`, `adamic_adar`, `dispersion`,
///   `disp_norm` (configured alpha/b/c), `disp_norm_paper` (0.61/0/5), `recursive_dispersion`
///   (dispersion-type signals are 0 when u and a are not friends; embeddedness, Jaccard and
///   Adamic-Adar are computed for any pair), `viewer_degree`, `author_degree`.
/// - tie strength (Twitter RealGraph-style decay `decay_per_day^days`): `aff_click` ..
///   `aff_hide` decayed counts of u's actions on a's stories, `recip_engagement` decayed
///   positive actions of a on u's stories, `direct_interactions` decayed direct interactions
///   between u and a in either direction, `days_since_interaction` days since the latest of
///   these (capped at `max_days_since`, which is also the value for "never").
/// - story: `age_hours` (0 if not yet created), `author_engagement_rate` positive engagements
///   on a's stories / (exposures of a's stories + 1) in the last `author_rate_window_days`
///   (fed to the model as log-odds since schema 4, [`Transform::Logit`]),
///   `story_engagements` positive engagement events on the story, `story_engagement_rate`
///   (since schema 4) the log-odds of its engagements per exposure shrunk towards the
///   author's rate (empirical Bayes, see `shrink.rs`), `friends_engaged` distinct
///   friends of u with a positive engagement on it, `structural_diversity` connected
///   components of the friendship graph among those friends (Ugander et al., PNAS 2012).
/// - viewer (since schema 4 all three are shrunk log-odds, `shrink.rs`):
///   `viewer_engagement_rate` u's positive engagements per exposure, shrunk towards a fixed
///   prior, `viewer_kind_rate` the same restricted to stories of the candidate's kind
///   (LinkedIn's viewer-type affinity) and `viewer_topic_rate` restricted to the candidate's
///   topic (since schema 3: a viewer's taste for topics is the largest single driver of
///   engagement the data can reveal), both shrunk towards u's overall rate (which is also
///   their value for a story without a topic or a kind u was never shown).
/// - kind (since schema 4): `kind_1`, `kind_2`, `kind_3` are 1 when the story's kind index is
///   1, 2 or 3 (photo, link, video on simulated worlds; kind 0 is the baseline, and kinds past
///   3 set none): each head gets its own per-kind offset, which a rate cannot express.
/// - posts (since schema 4, `posts.rs`): `viewer_topic_posts` and `friends_topic_posts`, the
///   log-odds of the share of the stories u (u's friends, pooled) created before `as_of` that
///   are on the candidate's topic, shrunk towards the uniform share: people post about what
///   they like, and friends share tastes (the simulator's circles; README "The simulator").
/// - matrix factorisation: `mf_author_affinity`, `mf_topic_affinity` from a pluggable
///   [`crate::features::MfAffinity`] provider (0 when none is installed or the story has no
///   topic).
pub const NAMES: [&str; NUM_FEATURES] = [
    "is_friend",
    "embeddedness",
    "jaccard",
    "adamic_adar",
    "dispersion",
    "disp_norm",
    "disp_norm_paper",
    "recursive_dispersion",
    "viewer_degree",
    "author_degree",
    "aff_click",
    "aff_like",
    "aff_comment",
    "aff_share",
    "aff_hide",
    "recip_engagement",
    "direct_interactions",
    "days_since_interaction",
    "age_hours",
    "author_engagement_rate",
    "story_engagements",
    "story_engagement_rate",
    "friends_engaged",
    "structural_diversity",
    "viewer_engagement_rate",
    "viewer_kind_rate",
    "mf_author_affinity",
    "mf_topic_affinity",
    "viewer_topic_rate",
    "kind_1",
    "kind_2",
    "kind_3",
    "viewer_topic_posts",
    "friends_topic_posts",
];

/// Row index of each feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Feature {
    IsFriend = 0,
    Embeddedness,
    Jaccard,
    AdamicAdar,
    Dispersion,
    DispNorm,
    DispNormPaper,
    RecursiveDispersion,
    ViewerDegree,
    AuthorDegree,
    AffClick,
    AffLike,
    AffComment,
    AffShare,
    AffHide,
    RecipEngagement,
    DirectInteractions,
    DaysSinceInteraction,
    AgeHours,
    AuthorEngagementRate,
    StoryEngagements,
    StoryEngagementRate,
    FriendsEngaged,
    StructuralDiversity,
    ViewerEngagementRate,
    ViewerKindRate,
    MfAuthorAffinity,
    MfTopicAffinity,
    ViewerTopicRate,
    Kind1,
    Kind2,
    Kind3,
    ViewerTopicPosts,
    FriendsTopicPosts,
}

impl Feature {
    pub const fn idx(self) -> usize {
        self as usize
    }
}

/// The fixed transform applied to a raw value before standardisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Transform {
    /// The value as is.
    Identity,
    /// `ln(1 + max(x, 0))`, for heavy-tailed counts.
    Log1p,
    /// Log-odds `ln(x / (1 - x))` of `x` clamped to [0.001, 0.999], for rates (schema 4).
    Logit,
}

/// The transform of each feature (counts and degrees are log-compressed; age is linear since
/// schema 2, as engagement decays exponentially with age; the author's rate is log-odds since
/// schema 4, the other rates are log-odds already).
pub fn transforms() -> [Transform; NUM_FEATURES] {
    use Transform::*;
    let mut t = [Identity; NUM_FEATURES];
    for f in [
        Feature::Embeddedness,
        Feature::AdamicAdar,
        Feature::Dispersion,
        Feature::DispNorm,
        Feature::DispNormPaper,
        Feature::RecursiveDispersion,
        Feature::ViewerDegree,
        Feature::AuthorDegree,
        Feature::AffClick,
        Feature::AffLike,
        Feature::AffComment,
        Feature::AffShare,
        Feature::AffHide,
        Feature::RecipEngagement,
        Feature::DirectInteractions,
        Feature::StoryEngagements,
        Feature::FriendsEngaged,
        Feature::StructuralDiversity,
    ] {
        t[f.idx()] = Log1p;
    }
    t[Feature::AuthorEngagementRate.idx()] = Logit;
    t
}

impl Transform {
    #[inline]
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Transform::Identity => x,
            Transform::Log1p => x.max(0.0).ln_1p(),
            Transform::Logit => super::shrink::logit(x),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_cover_the_scorer_contract() {
        let mut v = NAMES.to_vec();
        v.sort();
        v.dedup();
        assert_eq!(v.len(), NUM_FEATURES);
        assert_eq!(NAMES[Feature::MfTopicAffinity.idx()], "mf_topic_affinity");
        assert_eq!(NAMES[Feature::AgeHours.idx()], "age_hours");
        // every name the scorer contract documents is in the schema
        let doc =
            "is_friend embeddedness jaccard adamic_adar dispersion disp_norm disp_norm_paper \
            recursive_dispersion viewer_degree author_degree aff_click aff_like aff_comment \
            aff_share aff_hide recip_engagement direct_interactions days_since_interaction \
            age_hours author_engagement_rate story_engagements story_engagement_rate friends_engaged \
            structural_diversity viewer_engagement_rate viewer_kind_rate mf_author_affinity \
            mf_topic_affinity viewer_topic_rate kind_1 kind_2 kind_3 \
            viewer_topic_posts friends_topic_posts";
        for n in doc.split_whitespace() {
            assert!(NAMES.contains(&n), "{n} missing");
        }
    }
}
