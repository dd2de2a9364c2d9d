//! Word lists for plausible company, person and ticket names.

pub const COMPANY_FIRST: &[&str] = &[
    "Acme", "Blue", "Bright", "Cedar", "Cobalt", "Crest", "Delta", "Ember", "Falcon", "Granite",
    "Harbor", "Helix", "Iron", "Juniper", "Keystone", "Lumen", "Maple", "Meridian", "Nimbus",
    "North", "Oak", "Orbit", "Pine", "Pioneer", "Quartz", "Radiant", "Redwood", "Sable", "Silver",
    "Summit", "Terra", "Tidal", "Vertex", "Willow", "Zenith", "Atlas", "Beacon", "Copper", "Echo",
    "Nova",
];

pub const COMPANY_SECOND: &[&str] = &[
    "Analytics",
    "Bank",
    "Biotech",
    "Capital",
    "Clinics",
    "Foods",
    "Freight",
    "Games",
    "Health",
    "Insurance",
    "Labs",
    "Logistics",
    "Media",
    "Motors",
    "Networks",
    "Pharma",
    "Retail",
    "Robotics",
    "Software",
    "Systems",
    "Telecom",
    "Travel",
    "Energy",
    "Education",
    "Studios",
    "Supply",
];

pub const COMPANY_SUFFIX: &[&str] = &[
    "Inc.", "LLC", "Group", "Corp.", "GmbH", "Ltd.", "Co.", "Partners",
];

pub const INDUSTRIES: &[&str] = &[
    "Software",
    "Financial services",
    "Healthcare",
    "Retail",
    "Manufacturing",
    "Logistics",
    "Media",
    "Education",
    "Telecommunications",
    "Energy",
];

pub const REGIONS: &[(&str, u32)] = &[("NA", 50), ("EMEA", 30), ("APAC", 15), ("LATAM", 5)];

pub const FIRST_NAMES: &[&str] = &[
    "Ada", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi",
    "Luis", "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Victor",
    "Wen", "Yara", "Zoe", "Amir", "Beatriz", "Chen", "Dana", "Emeka",
];

pub const LAST_NAMES: &[&str] = &[
    "Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Jensen",
    "Kim", "Lopez", "Moreau", "Nakamura", "Okafor", "Patel", "Rossi", "Schmidt", "Tanaka", "Usman",
    "Varga", "Weber", "Xu", "Yilmaz", "Zhang", "Novak", "Silva", "Murphy", "Costa", "Singh",
];

pub const CSMS: &[&str] = &[
    "alex.morgan",
    "bea.lindqvist",
    "carlos.mendes",
    "dina.hassan",
    "eric.chu",
    "fatima.ali",
    "gus.okoro",
    "hana.sato",
];

pub const DIGITAL_CSMS: &[&str] = &["scale.team", "ivy.nguyen"];

pub const ACCOUNT_MANAGERS: &[&str] = &["jordan.blake", "kim.ortiz", "lena.wolf", "marc.dubois"];

/// Product events, named as Segment's spec recommends (object + past-tense action);
/// the default scorecard maps its key features onto them by pattern.
pub const FEATURES: &[&str] = &[
    "Dashboard Viewed",
    "Report Exported",
    "Alert Created",
    "Integration Connected",
    "Data Exported",
    "Workflow Run",
];

pub const TICKET_SUBJECTS: &[&str] = &[
    "Cannot log in with SSO",
    "Report export times out",
    "Dashboard shows stale data",
    "API rate limit errors",
    "How do I add users?",
    "Invoice question",
    "Integration sync failing",
    "Feature request: custom fields",
    "Alert emails not arriving",
    "Permissions for new team",
    "Slow page loads",
    "Data import error",
    "Billing address change",
    "Workflow stuck in pending",
    "Question about renewal terms",
];

pub const PROMOTER_COMMENTS: &[&str] = &[
    "Saves our team hours every week.",
    "Great support, very responsive.",
    "The dashboards are exactly what we needed.",
    "Easy to roll out to new teams.",
];

pub const PASSIVE_COMMENTS: &[&str] = &[
    "Good product, a few rough edges.",
    "Works, but reporting could be more flexible.",
    "Pricing is getting hard to justify.",
];

pub const DETRACTOR_COMMENTS: &[&str] = &[
    "Too many bugs lately.",
    "Support takes days to answer.",
    "We are not getting the value we expected.",
    "Our team stopped using it.",
    "Missing integrations we need.",
];

pub const CHURN_REASONS: &[&str] = &[
    "budget",
    "competitor",
    "product gaps",
    "poor support",
    "acquired",
    "no longer needed",
];
