//! Fake data by name: `{fake: safe_email}` in a profile, `{fake: name}` in a
//! schema. The names are the fake crate's generators in snake_case
//! (`SafeEmail` is `safe_email`), each in any of the crate's locales.
//!
//! Generators that need arguments get fixed, documented ones (a sentence is
//! 4 to 10 words, a password 8 to 16 characters), so every name works on its
//! own.

use std::str::FromStr;
use strum::VariantArray as _;

use fake::faker::impls::address::CityNameGenFn;
use fake::locales::{
    Data, AR_SA, CY_GB, DE_DE, EN, FA_IR, FR_FR, IT_IT, JA_JP, NL_NL, PT_BR, PT_PT, TR_TR, ZH_CN, ZH_TW,
};
use fake::Fake;
use rand::seq::IndexedRandom;
use rand::{Rng, RngExt};

macro_rules! fakers {
    ($( $name:literal => $variant:ident = $module:ident :: $ty:ident ( $($arg:expr),* ) ),* $(,)?) => {
        /// One fake-data generator, by name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum FakeKind { $(#[doc = concat!("`", $name, "`")] $variant),* }

        impl FakeKind {
            /// Every generator with its name, in the order of the docs.
            pub const ALL: &'static [(&'static str, FakeKind)] = &[$(($name, FakeKind::$variant)),*];

            fn generate_in<L: Data + Copy + CityNameGenFn, R: Rng + ?Sized>(self, l: L, rng: &mut R) -> String {
                match self {
                    $(FakeKind::$variant => ::fake::faker::$module::raw::$ty(l, $($arg),*).fake_with_rng::<String, R>(rng),)*
                }
            }
        }
    };
}

fakers! {
    // address
    "city_prefix" => CityPrefix = address::CityPrefix(),
    "city_suffix" => CitySuffix = address::CitySuffix(),
    "city_name" => CityName = address::CityName(),
    "city" => City = address::CityName(),
    "country_name" => CountryName = address::CountryName(),
    "country_code" => CountryCode = address::CountryCode(),
    "street_suffix" => StreetSuffix = address::StreetSuffix(),
    "street_name" => StreetName = address::StreetName(),
    // A building number and a street name (the crate has no single generator).
    "street_address" => StreetAddress = address::StreetName(),
    "time_zone" => TimeZone = address::TimeZone(),
    "state_name" => StateName = address::StateName(),
    "state_abbr" => StateAbbr = address::StateAbbr(),
    "secondary_address_type" => SecondaryAddressType = address::SecondaryAddressType(),
    "secondary_address" => SecondaryAddress = address::SecondaryAddress(),
    "zip_code" => ZipCode = address::ZipCode(),
    "post_code" => PostCode = address::PostCode(),
    "building_number" => BuildingNumber = address::BuildingNumber(),
    "latitude" => Latitude = address::Latitude(),
    "longitude" => Longitude = address::Longitude(),
    "geohash" => Geohash = address::Geohash(8),
    // barcode
    "isbn" => Isbn = barcode::Isbn(),
    "isbn10" => Isbn10 = barcode::Isbn10(),
    "isbn13" => Isbn13 = barcode::Isbn13(),
    // credit card, company, currency, finance
    "credit_card_number" => CreditCardNumber = creditcard::CreditCardNumber(),
    "company_suffix" => CompanySuffix = company::CompanySuffix(),
    "company_name" => CompanyName = company::CompanyName(),
    "buzzword" => Buzzword = company::Buzzword(),
    "buzzword_middle" => BuzzwordMiddle = company::BuzzwordMiddle(),
    "buzzword_tail" => BuzzwordTail = company::BuzzwordTail(),
    "catch_phrase" => CatchPhrase = company::CatchPhrase(),
    "bs_verb" => BsVerb = company::BsVerb(),
    "bs_adj" => BsAdj = company::BsAdj(),
    "bs_noun" => BsNoun = company::BsNoun(),
    "bs" => Bs = company::Bs(),
    "profession" => Profession = company::Profession(),
    "industry" => Industry = company::Industry(),
    "currency_code" => CurrencyCode = currency::CurrencyCode(),
    "currency_name" => CurrencyName = currency::CurrencyName(),
    "currency_symbol" => CurrencySymbol = currency::CurrencySymbol(),
    "bic" => Bic = finance::Bic(),
    "isin" => Isin = finance::Isin(),
    // internet
    "free_email_provider" => FreeEmailProvider = internet::FreeEmailProvider(),
    "domain_suffix" => DomainSuffix = internet::DomainSuffix(),
    "free_email" => FreeEmail = internet::FreeEmail(),
    "safe_email" => SafeEmail = internet::SafeEmail(),
    "username" => Username = internet::Username(),
    "password" => Password = internet::Password(8..17),
    "ipv4" => IPv4 = internet::IPv4(),
    "ipv6" => IPv6 = internet::IPv6(),
    "ip" => IP = internet::IP(),
    "mac_address" => MACAddress = internet::MACAddress(),
    "user_agent" => UserAgent = internet::UserAgent(),
    // job
    "job_seniority" => Seniority = job::Seniority(),
    "job_field" => Field = job::Field(),
    "job_position" => Position = job::Position(),
    "job_title" => JobTitle = job::Title(),
    // lorem
    "word" => Word = lorem::Word(),
    "sentence" => Sentence = lorem::Sentence(4..11),
    "paragraph" => Paragraph = lorem::Paragraph(3..7),
    // name
    "first_name" => FirstName = name::FirstName(),
    "last_name" => LastName = name::LastName(),
    "title" => Title = name::Title(),
    "suffix" => Suffix = name::Suffix(),
    "name" => Name = name::Name(),
    "name_with_title" => NameWithTitle = name::NameWithTitle(),
    // number, phone
    "digit" => Digit = number::Digit(),
    "phone_number" => PhoneNumber = phone_number::PhoneNumber(),
    "cell_number" => CellNumber = phone_number::CellNumber(),
    // filesystem
    "file_path" => FilePath = filesystem::FilePath(),
    "file_name" => FileName = filesystem::FileName(),
    "file_extension" => FileExtension = filesystem::FileExtension(),
    "dir_path" => DirPath = filesystem::DirPath(),
    "mime_type" => MimeType = filesystem::MimeType(),
    "semver" => Semver = filesystem::Semver(),
    "semver_stable" => SemverStable = filesystem::SemverStable(),
    "semver_unstable" => SemverUnstable = filesystem::SemverUnstable(),
}

impl FakeKind {
    /// The generator's name as written in profiles and schemas.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }

    /// All names, comma-separated (for error messages).
    pub fn names() -> String {
        Self::ALL.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
    }

    /// Generate one value in the given locale.
    pub fn generate<R: Rng + ?Sized>(self, locale: Locale, rng: &mut R) -> String {
        let mut s = String::new();
        self.generate_into(locale, rng, &mut s);
        s
    }

    /// The fake crate's own value, for comparison in tests.
    #[cfg(test)]
    fn generate_raw<R: Rng + ?Sized>(self, locale: Locale, rng: &mut R) -> String {
        match locale {
            Locale::En => self.generate_in(EN, rng),
            Locale::FrFr => self.generate_in(FR_FR, rng),
            Locale::DeDe => self.generate_in(DE_DE, rng),
            Locale::ItIt => self.generate_in(IT_IT, rng),
            Locale::NlNl => self.generate_in(NL_NL, rng),
            Locale::PtBr => self.generate_in(PT_BR, rng),
            Locale::PtPt => self.generate_in(PT_PT, rng),
            Locale::TrTr => self.generate_in(TR_TR, rng),
            Locale::CyGb => self.generate_in(CY_GB, rng),
            Locale::ArSa => self.generate_in(AR_SA, rng),
            Locale::FaIr => self.generate_in(FA_IR, rng),
            Locale::JaJp => self.generate_in(JA_JP, rng),
            Locale::ZhCn => self.generate_in(ZH_CN, rng),
            Locale::ZhTw => self.generate_in(ZH_TW, rng),
        }
    }

    /// Append one value in the given locale to `out`: the same as
    /// [`FakeKind::generate`], without the intermediate `String`s for the
    /// commonest generators (see [`FakeKind::generate_into_in`]).
    pub fn generate_into<R: Rng + ?Sized>(self, locale: Locale, rng: &mut R, out: &mut String) {
        match locale {
            Locale::En => self.generate_into_in(EN, rng, out),
            Locale::FrFr => self.generate_into_in(FR_FR, rng, out),
            Locale::DeDe => self.generate_into_in(DE_DE, rng, out),
            Locale::ItIt => self.generate_into_in(IT_IT, rng, out),
            Locale::NlNl => self.generate_into_in(NL_NL, rng, out),
            Locale::PtBr => self.generate_into_in(PT_BR, rng, out),
            Locale::PtPt => self.generate_into_in(PT_PT, rng, out),
            Locale::TrTr => self.generate_into_in(TR_TR, rng, out),
            Locale::CyGb => self.generate_into_in(CY_GB, rng, out),
            Locale::ArSa => self.generate_into_in(AR_SA, rng, out),
            Locale::FaIr => self.generate_into_in(FA_IR, rng, out),
            Locale::JaJp => self.generate_into_in(JA_JP, rng, out),
            Locale::ZhCn => self.generate_into_in(ZH_CN, rng, out),
            Locale::ZhTw => self.generate_into_in(ZH_TW, rng, out),
        }
    }

    /// Names, emails and phone numbers written straight into `out` from the
    /// fake crate's own locale data, drawing the same random numbers in the
    /// same order as the crate (so the values are the same), but without
    /// its `replace`, `to_lowercase`, `format!` and `collect` per value: in
    /// data synthesis those were a third of the CPU (BENCHMARKS.md, section 5).
    fn generate_into_in<L: Data + Copy + CityNameGenFn, R: Rng + ?Sized>(self, l: L, rng: &mut R, out: &mut String) {
        fn pick<'a, R: Rng + ?Sized>(from: &[&'a str], rng: &mut R) -> &'a str {
            from.choose(rng).copied().unwrap_or("")
        }
        fn numerify<R: Rng + ?Sized>(format: &str, rng: &mut R, out: &mut String) {
            // Most formats are short and ASCII: their digits go into a buffer
            // on the stack and into `out` in one append, not one `push` each.
            let mut buf = [0u8; 40];
            if format.is_ascii() && format.len() <= buf.len() {
                for (b, c) in buf.iter_mut().zip(format.bytes()) {
                    *b = match c {
                        b'^' => b'0' + rng.random_range(1..10u8),
                        b'#' => b'0' + rng.random_range(0..10u8),
                        other => other,
                    };
                }
                out.push_str(std::str::from_utf8(&buf[..format.len()]).unwrap_or_default());
                return;
            }
            for c in format.chars() {
                match c {
                    '^' => out.push(char::from(b'0' + rng.random_range(1..10u8))),
                    '#' => out.push(char::from(b'0' + rng.random_range(0..10u8))),
                    other => out.push(other),
                }
            }
        }
        match self {
            FakeKind::FirstName => out.push_str(pick(L::NAME_FIRST_NAME, rng)),
            FakeKind::LastName => out.push_str(pick(L::NAME_LAST_NAME, rng)),
            FakeKind::Name => {
                let first = pick(L::NAME_FIRST_NAME, rng);
                let last = pick(L::NAME_LAST_NAME, rng);
                // Most locales' template, without parsing it per value.
                if L::NAME_TPL == "{FirstName} {LastName}" {
                    out.push_str(first);
                    out.push(' ');
                    out.push_str(last);
                    return;
                }
                let mut rest = L::NAME_TPL;
                while let Some(open) = rest.find('{') {
                    out.push_str(&rest[..open]);
                    let Some(close) = rest[open..].find('}') else { break };
                    match &rest[open + 1..open + close] {
                        "FirstName" => out.push_str(first),
                        "LastName" => out.push_str(last),
                        other => {
                            out.push('{');
                            out.push_str(other);
                            out.push('}');
                        }
                    }
                    rest = &rest[open + close + 1..];
                }
                out.push_str(rest);
            }
            FakeKind::SafeEmail => {
                let first = pick(L::NAME_FIRST_NAME, rng);
                if first.is_ascii() {
                    let start = out.len();
                    out.push_str(first);
                    out[start..].make_ascii_lowercase();
                } else {
                    for c in first.chars() {
                        out.extend(c.to_lowercase());
                    }
                }
                out.push_str("@example.");
                out.push_str(pick(&["com", "net", "org"], rng));
            }
            FakeKind::PhoneNumber => numerify(pick(L::PHONE_NUMBER_FORMATS, rng), rng, out),
            FakeKind::CellNumber => numerify(pick(L::PHONE_CELL_NUMBER_FORMATS, rng), rng, out),
            // The fake crate's `IP` ignores the generator it is given and
            // draws from the thread's RNG: not reproducible. It is an IPv4
            // address, so draw one from ours.
            FakeKind::IP => out.push_str(&FakeKind::IPv4.generate_in(l, rng)),
            FakeKind::StreetAddress => {
                out.push_str(&FakeKind::BuildingNumber.generate_in(l, rng));
                out.push(' ');
                out.push_str(&FakeKind::StreetName.generate_in(l, rng));
            }
            other => out.push_str(&other.generate_in(l, rng)),
        }
    }
}

/// Unknown generator name; the message lists the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fake generator `{0}`{hint} (known: {known})", hint = did_you_mean(.0, FakeKind::ALL.iter().map(|(n, _)| *n)), known = FakeKind::names())]
pub struct UnknownFake(pub String);

/// ` (did you mean `x`?)` for the closest candidate within a small edit
/// distance, or nothing.
pub fn did_you_mean<'a>(input: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    candidates
        .map(|c| (edit_distance(input, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min()
        .map(|(_, c)| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

/// Levenshtein distance, counting a swap of two neighbours as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

impl FromStr for FakeKind {
    type Err = UnknownFake;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, k)| *k)
            .ok_or_else(|| UnknownFake(s.to_string()))
    }
}

/// The fake crate's locales, named in snake_case (`fr_fr`); `FR-fr` and
/// `fr-FR` are read as `fr_fr` too.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, strum::Display, strum::IntoStaticStr, strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
pub enum Locale {
    /// English (`en`), the default.
    #[default]
    En,
    /// French, France.
    FrFr,
    /// German, Germany.
    DeDe,
    /// Italian, Italy.
    ItIt,
    /// Dutch, Netherlands.
    NlNl,
    /// Portuguese, Brazil.
    PtBr,
    /// Portuguese, Portugal.
    PtPt,
    /// Turkish, Turkey.
    TrTr,
    /// Welsh, United Kingdom.
    CyGb,
    /// Arabic, Saudi Arabia.
    ArSa,
    /// Persian, Iran.
    FaIr,
    /// Japanese, Japan.
    JaJp,
    /// Chinese, mainland China.
    ZhCn,
    /// Chinese, Taiwan.
    ZhTw,
}

impl Locale {
    /// The locale's name as written in profiles, schemas and scrub rules.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// Unknown locale; the message lists the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown locale `{0}` (known: {known})", known = Locale::VARIANTS.iter().map(|l| l.name()).collect::<Vec<_>>().join(", "))]
pub struct UnknownLocale(pub String);

impl FromStr for Locale {
    type Err = UnknownLocale;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.to_ascii_lowercase().replace('-', "_");
        Locale::VARIANTS
            .iter()
            .copied()
            .find(|l| l.name() == norm)
            .ok_or_else(|| UnknownLocale(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    /// Every generator gives the same value for the same seed.
    #[test]
    fn every_generator_is_reproducible() {
        for locale in Locale::VARIANTS {
            for (name, kind) in FakeKind::ALL {
                let a = kind.generate(*locale, &mut crate::values::seed::rng_for(3, 1));
                let b = kind.generate(*locale, &mut crate::values::seed::rng_for(3, 1));
                assert_eq!(a, b, "{name} in {locale:?}");
            }
        }
    }

    /// The fast paths give exactly the fake crate's values, in every locale
    /// (`ip` aside, whose fake-crate value is not reproducible, and
    /// `street_address`, which the crate does not have).
    #[test]
    fn generate_into_matches_the_fake_crate() {
        for locale in Locale::VARIANTS {
            for (name, kind) in FakeKind::ALL {
                if matches!(*kind, FakeKind::IP | FakeKind::StreetAddress) {
                    continue;
                }
                for seed in 0..40u64 {
                    let a = kind.generate_raw(*locale, &mut crate::values::seed::rng_for(seed, 1));
                    let mut b = String::from("prefix:");
                    kind.generate_into(*locale, &mut crate::values::seed::rng_for(seed, 1), &mut b);
                    assert_eq!(b.strip_prefix("prefix:"), Some(a.as_str()), "{name} in {locale:?}");
                }
            }
        }
    }

    use super::*;
    use crate::values::rng_for;

    #[test]
    fn every_generator_works_in_every_locale() {
        for (name, kind) in FakeKind::ALL {
            for locale in Locale::VARIANTS {
                let v = kind.generate(*locale, &mut rng_for(1, 2));
                assert!(
                    !v.is_empty() || *name == "suffix",
                    "{name} in {locale} gave an empty string"
                );
            }
        }
    }

    /// Locales keep their names: what profiles, schemas and scrub rules
    /// say, and what the error lists.
    #[test]
    fn locales_parse_by_name_in_any_case() {
        assert_eq!(
            "nope".parse::<Locale>().unwrap_err().to_string(),
            "unknown locale `nope` (known: en, fr_fr, de_de, it_it, nl_nl, pt_br, pt_pt, tr_tr, cy_gb, ar_sa, fa_ir, ja_jp, zh_cn, zh_tw)"
        );
        for locale in Locale::VARIANTS {
            assert_eq!(locale.to_string().parse::<Locale>().unwrap(), *locale);
        }
        assert_eq!("FR-fr".parse::<Locale>().unwrap(), Locale::FrFr);
        assert_eq!(Locale::ZhTw.to_string(), "zh_tw");
    }

    #[test]
    fn names_round_trip_and_same_seed_same_value() {
        for (name, kind) in FakeKind::ALL {
            assert_eq!(name.parse::<FakeKind>().unwrap(), *kind);
        }
        let a = FakeKind::SafeEmail.generate(Locale::En, &mut rng_for(9, 1));
        let b = FakeKind::SafeEmail.generate(Locale::En, &mut rng_for(9, 1));
        assert_eq!(a, b);
        assert!(a.contains('@'));
        assert!("no_such"
            .parse::<FakeKind>()
            .unwrap_err()
            .to_string()
            .contains("safe_email"));
    }
}
