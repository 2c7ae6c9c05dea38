//! Ablation groups: named parts of the model that training can leave out, to measure what
//! each contributes (`[model] ablate = [...]` in the configuration, `feedrank eval --ablate
//! GROUP`, and the list saved in a model file). A group masks a set of features of the
//! [`super::schema`] (their columns are zeroed and their coefficients fixed at 0); `mf` also
//! switches matrix factorisation off, and `personalisation` masks no feature but switches the
//! per-viewer offsets off.
//!
//! A group is written as its name everywhere (TOML, command line, model files): see
//! [`AblationGroup::as_str`].
use super::schema::{Feature, NUM_FEATURES};
use std::cmp::Ordering;

/// A group of features (or a model part) that training can leave out.
///
/// Serialised as its name (a string), not as serde's variant index, so the model files and
/// TOML files written when groups were plain strings read and write the same bytes. Ordered
/// by name, as the string names were.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum AblationGroup {
    /// Every friendship-graph feature: `is_friend`, embeddedness, Jaccard, Adamic-Adar, the
    /// four dispersion variants, both degrees, `friends_engaged`, `structural_diversity`.
    Graph,
    /// The four dispersion variants only.
    Dispersion,
    /// The decayed interaction counts and recency (`aff_*`, `recip_engagement`,
    /// `direct_interactions`, `days_since_interaction`).
    TieStrength,
    /// Matrix factorisation: its two affinity features, and the factors are not fitted.
    Mf,
    /// Every way the model sees the viewer's topic taste: `viewer_topic_rate`,
    /// `mf_topic_affinity` and, since schema 4, `viewer_topic_posts` and `friends_topic_posts`
    /// (they overlap; ablating one leaves the others).
    TopicTaste,
    /// The per-viewer offsets (no feature is masked).
    Personalisation,
    /// Everything the model learns from the social network: the `graph` and `tie_strength`
    /// groups together with `friends_topic_posts` (what the viewer's friends post about), so
    /// the model keeps only the viewer's own history, the story, its author's and its own
    /// engagement, and matrix factorisation.
    Social,
}

/// The `graph` group's features.
const GRAPH: [Feature; 12] = {
    use Feature::*;
    [
        IsFriend,
        Embeddedness,
        Jaccard,
        AdamicAdar,
        Dispersion,
        DispNorm,
        DispNormPaper,
        RecursiveDispersion,
        ViewerDegree,
        AuthorDegree,
        FriendsEngaged,
        StructuralDiversity,
    ]
};

/// The `tie_strength` group's features.
const TIE_STRENGTH: [Feature; 8] = {
    use Feature::*;
    [
        AffClick,
        AffLike,
        AffComment,
        AffShare,
        AffHide,
        RecipEngagement,
        DirectInteractions,
        DaysSinceInteraction,
    ]
};

/// The `social` group's features: [`GRAPH`], [`TIE_STRENGTH`] and `friends_topic_posts`.
const SOCIAL: [Feature; GRAPH.len() + TIE_STRENGTH.len() + 1] = {
    let mut out = [Feature::FriendsTopicPosts; GRAPH.len() + TIE_STRENGTH.len() + 1];
    let mut i = 0;
    while i < GRAPH.len() {
        out[i] = GRAPH[i];
        i += 1;
    }
    let mut j = 0;
    while j < TIE_STRENGTH.len() {
        out[GRAPH.len() + j] = TIE_STRENGTH[j];
        j += 1;
    }
    out
};

impl AblationGroup {
    /// Every group, in the order the documentation lists them.
    pub const ALL: [AblationGroup; 7] = [
        AblationGroup::Graph,
        AblationGroup::Dispersion,
        AblationGroup::TieStrength,
        AblationGroup::Mf,
        AblationGroup::TopicTaste,
        AblationGroup::Personalisation,
        AblationGroup::Social,
    ];

    /// The group's name in configuration files, on the command line and in model files.
    pub const fn as_str(self) -> &'static str {
        match self {
            AblationGroup::Graph => "graph",
            AblationGroup::Dispersion => "dispersion",
            AblationGroup::TieStrength => "tie_strength",
            AblationGroup::Mf => "mf",
            AblationGroup::TopicTaste => "topic_taste",
            AblationGroup::Personalisation => "personalisation",
            AblationGroup::Social => "social",
        }
    }

    /// The features the group masks (none for `personalisation`, which switches a model part
    /// off instead).
    pub fn features(self) -> &'static [Feature] {
        use Feature::*;
        match self {
            AblationGroup::Graph => &GRAPH,
            AblationGroup::Dispersion => {
                &[Dispersion, DispNorm, DispNormPaper, RecursiveDispersion]
            }
            AblationGroup::TieStrength => &TIE_STRENGTH,
            AblationGroup::Mf => &[MfAuthorAffinity, MfTopicAffinity],
            AblationGroup::TopicTaste => &[
                ViewerTopicRate,
                MfTopicAffinity,
                ViewerTopicPosts,
                FriendsTopicPosts,
            ],
            AblationGroup::Personalisation => &[],
            AblationGroup::Social => &SOCIAL,
        }
    }

    /// Which features `groups` mask, in row order.
    pub fn mask(groups: &[AblationGroup]) -> [bool; NUM_FEATURES] {
        let mut m = [false; NUM_FEATURES];
        for f in groups.iter().flat_map(|g| g.features()) {
            m[f.idx()] = true;
        }
        m
    }

    /// The names of every group, comma-separated (for messages).
    pub fn known() -> String {
        Self::ALL.map(AblationGroup::as_str).join(", ")
    }
}

/// A name that is not an [`AblationGroup`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown group {name:?} (known: {})", AblationGroup::known())]
pub struct UnknownAblationGroup {
    pub name: String,
}

impl std::str::FromStr for AblationGroup {
    type Err = UnknownAblationGroup;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| UnknownAblationGroup {
                name: s.to_string(),
            })
    }
}

impl TryFrom<String> for AblationGroup {
    type Error = UnknownAblationGroup;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<AblationGroup> for &'static str {
    fn from(g: AblationGroup) -> Self {
        g.as_str()
    }
}

impl std::fmt::Display for AblationGroup {
    /// The name, honouring width and alignment (`{:<16}`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl Ord for AblationGroup {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for AblationGroup {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_errors() {
        for g in AblationGroup::ALL {
            assert_eq!(g.as_str().parse::<AblationGroup>(), Ok(g));
            assert_eq!(g.to_string(), g.as_str());
        }
        let e = "nonsense".parse::<AblationGroup>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown group \"nonsense\" (known: graph, dispersion, tie_strength, mf, \
             topic_taste, personalisation, social)"
        );
        assert_eq!(format!("{:<8}|", AblationGroup::Mf), "mf      |");
    }

    #[test]
    fn every_group_but_personalisation_masks_features() {
        for g in AblationGroup::ALL {
            assert_eq!(
                g.features().is_empty(),
                g == AblationGroup::Personalisation,
                "{g}"
            );
        }
        let m = AblationGroup::mask(&[AblationGroup::Dispersion, AblationGroup::Mf]);
        assert_eq!(m.iter().filter(|&&b| b).count(), 6);
        assert!(m[Feature::DispNormPaper.idx()] && m[Feature::MfTopicAffinity.idx()]);
        // `social` is `graph` + `tie_strength` + what friends post about, nothing else.
        let social = AblationGroup::mask(&[AblationGroup::Social]);
        let mut parts = AblationGroup::mask(&[AblationGroup::Graph, AblationGroup::TieStrength]);
        parts[Feature::FriendsTopicPosts.idx()] = true;
        assert_eq!(social, parts);
        assert!(
            !social[Feature::ViewerTopicPosts.idx()] && !social[Feature::MfAuthorAffinity.idx()]
        );
    }

    #[test]
    fn ordered_by_name() {
        let mut v = AblationGroup::ALL.to_vec();
        v.sort();
        let names: Vec<&str> = v.iter().map(|g| g.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
    }

    #[test]
    fn serialised_exactly_as_the_name_strings() {
        // Model files hold the groups through bincode: the bytes must equal those of the
        // plain strings they replaced.
        let cfg = bincode::config::standard();
        let groups = vec![AblationGroup::TieStrength, AblationGroup::Mf];
        let names: Vec<String> = vec!["tie_strength".into(), "mf".into()];
        let a = bincode::serde::encode_to_vec(&groups, cfg).unwrap();
        let b = bincode::serde::encode_to_vec(&names, cfg).unwrap();
        assert_eq!(a, b);
        let (back, _): (Vec<AblationGroup>, usize) =
            bincode::serde::decode_from_slice(&b, cfg).unwrap();
        assert_eq!(back, groups);
        let bad: Vec<String> = vec!["nonsense".into()];
        let bad = bincode::serde::encode_to_vec(&bad, cfg).unwrap();
        assert!(bincode::serde::decode_from_slice::<Vec<AblationGroup>, _>(&bad, cfg).is_err());
        assert_eq!(
            serde_json::to_string(&groups).unwrap(),
            r#"["tie_strength","mf"]"#
        );
    }
}
