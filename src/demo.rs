//! `greenchip demo`: a demo workshop with about three months of history, so that every page
//! and report has something to show.
//!
//! Staff, stations and partners first; then collections spread over the past 90 days, and
//! every item taken through its life at the stations by apprentices signed in at enrolled
//! devices: triage, sanitisation of data-bearing items, refurbishment and reuse, CRTs shipped
//! whole, most dismantled into lots with weighing noise. Copper cable is stripped at the
//! sorting bench, copper melted into ingots (a later melt taking back the earlier dross), and
//! boards, batteries and hazardous fractions shipped to licensed processors. Everything goes
//! through the services, so the ledger is what the workshop itself would have written. The
//! content (kinds, masses, decisions) is the same on every run; codes are random.
//!
//! Running it twice adds nothing the second time.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::domain::codes::Code;
use crate::domain::intake::{CollectionState, PartnerKind};
use crate::domain::lifecycle::{Action, Route, StationKind};
use crate::domain::lots::LotState;
use crate::domain::roles::Role;
use crate::domain::tolerance::DEFAULT_BP;
use crate::entities::{item, partner, station, station_device, user};
use crate::error::{AppError, AppResult};
use crate::services::actions::{self, ActionRequest, SanitisationInput, SanitisationMethod};
use crate::services::collections::{self, CollectionFields};
use crate::services::dismantling::{self, DismantleRequest};
use crate::services::flows::{Output, Performer, ResidualTo, Take, Typed};
use crate::services::items::{self, NewItem};
use crate::services::lots::{self, LotFilter, LotRow, ReweighRequest, TransferRequest};
use crate::services::melts::{
    self, ChargeRequest, IngotRequest, NoteRequest, PourRequest, StartMeltRequest,
};
use crate::services::partners::{self, PartnerFields};
use crate::services::shipments::{self, ProcessorRequest, ShipmentRequest};
use crate::services::users::{self, NewUser};
use crate::services::{Paging, catalogue, stations};

/// Staff of the demo workshop: (login, display name, role).
const STAFF: [(&str, &str, Role); 6] = [
    ("samira", "Samira El Idrissi", Role::Supervisor),
    ("youssef", "Youssef Amrani", Role::Apprentice),
    ("khadija", "Khadija Ouali", Role::Apprentice),
    ("hamza", "Hamza Boulahcen", Role::Apprentice),
    ("salma", "Salma Berrada", Role::Apprentice),
    ("ilyas", "Ilyas Aït Ouhmad", Role::Apprentice),
];

/// The workshop's benches: (name, kind).
const STATIONS: [(&str, StationKind); 9] = [
    ("Réception", StationKind::Intake),
    ("Tri", StationKind::Triage),
    ("Effacement des données", StationKind::Sanitisation),
    ("Reconditionnement", StationKind::Refurbishment),
    ("Démontage 1", StationKind::Dismantling),
    ("Démontage 2", StationKind::Dismantling),
    ("Dénudage et tri des matières", StationKind::Sorting),
    ("Fonderie", StationKind::Smelting),
    ("Expédition", StationKind::Shipping),
];

/// A partner and what it usually hands over: equipment kinds and how often, relatively.
struct PartnerSpec {
    name: &'static str,
    kind: PartnerKind,
    address: &'static str,
    contact: &'static str,
    /// Prefix of its delivery notes.
    reference: &'static str,
    mix: &'static [(&'static str, u32)],
}

const PARTNERS: [PartnerSpec; 5] = [
    PartnerSpec {
        name: "Lycée Ibn Sina",
        kind: PartnerKind::School,
        address: "Avenue Hassan II, Marrakech",
        contact: "M. Benali, intendant",
        reference: "BL-IBS-2026-",
        mix: &[
            ("desktop_pc", 35),
            ("crt_monitor", 12),
            ("lcd_monitor", 14),
            ("keyboard_mouse", 6),
            ("printer", 8),
            ("cables", 10),
            ("network_switch", 3),
        ],
    },
    PartnerSpec {
        name: "Managem — mine de Bou-Azzer",
        kind: PartnerKind::MineSite,
        address: "Bou-Azzer, Ouarzazate",
        contact: "Direction des systèmes d'information",
        reference: "MNG-DSI-2026-",
        mix: &[
            ("server", 10),
            ("network_switch", 12),
            ("ups", 12),
            ("laptop", 18),
            ("desktop_pc", 18),
            ("printer", 5),
            ("cables", 14),
            ("phone", 8),
        ],
    },
    PartnerSpec {
        name: "Commune de Taznakht",
        kind: PartnerKind::PublicBody,
        address: "Hôtel de ville, Taznakht",
        contact: "Service informatique",
        reference: "CT-2026-",
        mix: &[
            ("desktop_pc", 30),
            ("lcd_monitor", 14),
            ("crt_monitor", 12),
            ("printer", 12),
            ("phone", 8),
            ("ups", 5),
            ("cables", 8),
            ("keyboard_mouse", 4),
        ],
    },
    PartnerSpec {
        name: "Atlas Bureautique SARL",
        kind: PartnerKind::Company,
        address: "Zone industrielle Sidi Ghanem, Marrakech",
        contact: "Mme Chraibi, responsable parc",
        reference: "ATB-",
        mix: &[
            ("laptop", 28),
            ("phone", 18),
            ("lcd_monitor", 15),
            ("desktop_pc", 15),
            ("network_switch", 6),
            ("cables", 10),
            ("printer", 6),
        ],
    },
    PartnerSpec {
        name: "Délégation provinciale de la santé de Ouarzazate",
        kind: PartnerKind::PublicBody,
        address: "Avenue Mohammed V, Ouarzazate",
        contact: "Bureau du matériel",
        reference: "DPS-OZT-",
        mix: &[
            ("desktop_pc", 25),
            ("printer", 15),
            ("lcd_monitor", 15),
            ("crt_monitor", 8),
            ("ups", 8),
            ("laptop", 10),
            ("cables", 8),
        ],
    },
];

/// A licensed downstream processor.
struct ProcessorSpec {
    name: &'static str,
    address: &'static str,
    permit: &'static str,
    families: &'static [&'static str],
    hazardous: &'static [&'static str],
}

/// A precious-metal refiner for boards, a battery recycler, and a hazardous-waste centre
/// for CRT glass and mercury lamps, in that order.
const PROCESSORS: [ProcessorSpec; 3] = [
    ProcessorSpec {
        name: "Affinerie des métaux précieux du Maroc",
        address: "Zone franche Ksar El Majaz, Tanger",
        permit: "AUT-DD-2024-118",
        families: &["pcb"],
        hazardous: &[],
    },
    ProcessorSpec {
        name: "Recyclage Batteries Atlas",
        address: "Parc industriel Ouled Saleh, Bouskoura",
        permit: "AUT-DD-2023-074",
        families: &["battery"],
        hazardous: &["BAT-PB"],
    },
    ProcessorSpec {
        name: "Centre de traitement des déchets dangereux de Mohammedia",
        address: "Route côtière 111, Mohammedia",
        permit: "AUT-DD-2022-031",
        families: &["glass", "hazardous_component"],
        hazardous: &["CRT-GLASS", "CAP-ELEC", "LCD-CCFL"],
    },
];

/// Which partner hands over each collection, oldest first.
const SCHEDULE: [usize; 16] = [0, 1, 2, 3, 1, 4, 0, 2, 3, 1, 4, 0, 2, 3, 1, 0];
/// After this many collections the workshop strips cable, melts and ships batteries once.
const MIDWAY: usize = 8;
/// How far back the first collection is.
const HISTORY_DAYS: i64 = 88;

const SEED: u64 = 2026;

/// Brands and models by kind, for the items' labels.
const MODELS: [(&str, &[(&str, &str)]); 9] = [
    (
        "desktop_pc",
        &[
            ("HP", "ProDesk 400 G3"),
            ("Dell", "OptiPlex 7010"),
            ("Lenovo", "ThinkCentre M710"),
            ("HP", "Compaq 8200 Elite"),
        ],
    ),
    (
        "laptop",
        &[
            ("HP", "EliteBook 840 G3"),
            ("Dell", "Latitude E7450"),
            ("Lenovo", "ThinkPad T460"),
        ],
    ),
    (
        "server",
        &[("HPE", "ProLiant DL380 Gen9"), ("Dell", "PowerEdge R720")],
    ),
    (
        "lcd_monitor",
        &[
            ("Dell", "P2214H"),
            ("HP", "EliteDisplay E221"),
            ("Samsung", "S22F350"),
        ],
    ),
    (
        "crt_monitor",
        &[("Philips", "107E"), ("Samsung", "SyncMaster 753DFX")],
    ),
    (
        "printer",
        &[
            ("HP", "LaserJet P2055"),
            ("Canon", "i-SENSYS MF4410"),
            ("Epson", "L3150"),
        ],
    ),
    (
        "network_switch",
        &[("Cisco", "Catalyst 2960"), ("HP", "ProCurve 2530")],
    ),
    ("ups", &[("APC", "Smart-UPS 1500"), ("Eaton", "5SC 1000")]),
    (
        "phone",
        &[
            ("Samsung", "Galaxy A10"),
            ("Huawei", "Y6 2019"),
            ("Apple", "iPhone 6s"),
        ],
    ),
];

/// Where refurbished equipment went.
const DESTINATIONS: [&str; 6] = [
    "don à l'École Al Amal",
    "don à l'association Tifawin, Taznakht",
    "don au Lycée Ibn Sina (salle informatique)",
    "don à la Maison des jeunes de Ouarzazate",
    "vendu à un apprenti (prix symbolique)",
    "usage interne : poste de l'atelier",
];

const REASONS_REUSE: [&str; 4] = [
    "démarre, écran et clavier en bon état",
    "testé : fonctionne, reconditionnable",
    "récent, seulement le disque à effacer",
    "bon état général, batterie correcte",
];
const REASONS_DISMANTLE: [&str; 5] = [
    "ne démarre pas",
    "carte mère hors service",
    "trop ancien pour être reconditionné",
    "boîtier cassé, pièces manquantes",
    "alimentation grillée, réparation non rentable",
];
const REASONS_SHIP_WHOLE: [&str; 2] = [
    "tube cathodique : envoyé entier à la filière agréée",
    "écran CRT intact, verre plombé : centre agréé",
];

/// Fills the database; running it twice adds nothing the second time.
pub async fn fill(db: &DatabaseConnection, config: &crate::config::Config) -> AppResult<()> {
    let mut supervisor_id = None;
    for (name, display_name, role) in STAFF {
        let new = NewUser {
            name: name.to_string(),
            display_name: Some(display_name.to_string()),
            email: None,
            role,
            password: None,
            partner_id: None,
        };
        match users::create(db, new, None).await {
            Ok(created) => {
                if role == Role::Supervisor {
                    supervisor_id = Some(created.user.id);
                }
                let badge = created.user.badge_code.as_deref().unwrap_or("-");
                let password = created.generated_password.unwrap_or_default();
                println!("{role:<10} {name:<8} password {password}  badge {badge}");
            }
            Err(AppError::Conflict { .. }) => println!("{role:<10} {name:<8} already there"),
            Err(error) => return Err(error),
        }
    }
    if station::Entity::find().count(db).await? == 0 {
        for (name, kind) in STATIONS {
            let created = stations::create(db, name, kind, supervisor_id).await?;
            println!("station    {:<30} {}", name, created.code);
        }
    }
    if partner::Entity::find().count(db).await? > 0 {
        println!("partners and collections already there");
        return Ok(());
    }
    let started = Instant::now();
    let mut workshop = Workshop::open(db).await?;
    // Every step is stamped with its simulated time, so reports see three months of work.
    let start = workshop.clock;
    let made = crate::clock::simulated(start, workshop.run()).await?;
    println!(
        "{} partners, {} collections, {} items: {} reused, {} shipped whole, {} dismantled, {} in progress",
        made.partners,
        made.collections,
        made.items,
        made.reused,
        made.shipped_whole,
        made.dismantled,
        made.in_progress
    );
    println!(
        "{} sanitisation records, {} lots opened ({} closed when full), {} regrades, {} reweigh",
        made.sanitised, made.lots_opened, made.lots_closed, made.regrades, made.reweighs
    );
    println!(
        "{} melts ({} kg charged, {} ingots, {} kg of ingot), {} processors, {} shipments ({} kg)",
        made.melts,
        crate::domain::mass::kilograms(made.charged_g),
        made.ingots,
        crate::domain::mass::kilograms(made.ingot_g),
        made.processors,
        made.shipments,
        crate::domain::mass::kilograms(made.shipped_g)
    );
    let (certified, partner_login) = certify(db, config, &workshop).await?;
    println!("{certified} recovery certificates issued for finished collections");
    println!("{partner_login}");
    println!(
        "demo workshop simulated in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Where demo certificates point when no public_url is configured (`.invalid` never resolves).
const DEMO_PUBLIC_URL: &str = "https://demo.greenchip.invalid";

/// Issues a certificate for every finished collection except the last one of the first
/// partner (left for a supervisor to issue), and gives the first partner a portal login.
async fn certify(
    db: &DatabaseConnection,
    config: &crate::config::Config,
    workshop: &Workshop<'_>,
) -> AppResult<(usize, String)> {
    use crate::services::certificates::{self, IssueRequest, Scope};
    // Issuing refuses to seal a QR code to the listening address. Demo certificates are not
    // anyone's real word: without a configured public_url they carry a reserved, clearly
    // fake one, and the demo says so.
    let mut config = config.clone();
    if config.public_base().is_none() {
        config.public_url = Some(DEMO_PUBLIC_URL.to_string());
        println!(
            "public_url is not set: the demo certificates' QR codes point to {DEMO_PUBLIC_URL} \
             (set GREENCHIP_PUBLIC_URL before `greenchip demo` for working ones)"
        );
    }
    let config = &config;
    let ready = certificates::ready(db, 100).await?;
    let first_partner = ready.first().map(|r| r.partner_id);
    let kept = ready
        .iter()
        .rev()
        .find(|r| Some(r.partner_id) == first_partner)
        .map(|r| r.collection.clone());
    let mut issued = 0;
    for candidate in &ready {
        if Some(&candidate.collection) == kept.as_ref() {
            continue;
        }
        let found = crate::services::collections::find(db, &candidate.collection).await?;
        certificates::issue(
            db,
            config,
            IssueRequest {
                scope: Scope::Collection(found.id),
                language: None,
                signatory_role: None,
                client_id: Some(format!("demo-{}", candidate.collection)),
            },
            &workshop.supervisor,
        )
        .await?;
        issued += 1;
    }
    let login = match first_partner {
        Some(partner_id) => {
            let created = users::create(
                db,
                NewUser {
                    name: "ibnsina".to_string(),
                    display_name: Some("Lycée Ibn Sina (intendance)".to_string()),
                    email: None,
                    role: Role::Partner,
                    password: None,
                    partner_id: Some(partner_id),
                },
                None,
            )
            .await?;
            format!(
                "{:<10} {:<8} password {}  (the partner portal of {})",
                Role::Partner.as_str(),
                created.user.name,
                created.generated_password.unwrap_or_default(),
                ready
                    .first()
                    .map(|r| r.partner.as_str())
                    .unwrap_or_default()
            )
        }
        None => "no finished collection: no partner login made".to_string(),
    };
    Ok((issued, login))
}

/// What the simulation made, for its summary.
#[derive(Debug, Default)]
struct Made {
    partners: usize,
    collections: usize,
    items: usize,
    reused: usize,
    shipped_whole: usize,
    dismantled: usize,
    in_progress: usize,
    sanitised: usize,
    lots_opened: usize,
    lots_closed: usize,
    regrades: usize,
    reweighs: usize,
    melts: usize,
    charged_g: i64,
    ingots: usize,
    ingot_g: i64,
    processors: usize,
    shipments: usize,
    shipped_g: i64,
}

/// An equipment kind as the catalogue describes it.
struct Kind {
    typical_mass_g: i64,
    /// (material code, percent of mass)
    fractions: Vec<(String, i64)>,
}

/// A station with the device enrolled as it, and who stands at it.
struct Bench {
    station: station::Model,
    kind: StationKind,
    device: station_device::Model,
    signed_in: Option<Uuid>,
    /// The apprentice on this bench for the current shift (an index into the apprentices).
    on_shift: usize,
}

/// How far the workshop got with an item (the newest collection is still being worked on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Depth {
    Received,
    Triaged,
    Started,
    Done,
}

/// The processors the workshop ships to.
struct Processors {
    boards: Uuid,
    batteries: Uuid,
    hazardous: Uuid,
}

struct Workshop<'a> {
    db: &'a DatabaseConnection,
    rng: StdRng,
    supervisor: user::Model,
    apprentices: Vec<user::Model>,
    benches: Vec<Bench>,
    kinds: HashMap<String, Kind>,
    kind_codes: HashMap<Uuid, String>,
    /// The mass at which each lot is judged full and closed.
    full_at: HashMap<String, i64>,
    /// Each dismantling bench's open lots as last seen (forgotten when lots change elsewhere).
    open_lots: HashMap<Uuid, Vec<LotRow>>,
    serials: HashSet<String>,
    next_id: u64,
    /// The devices' clock: the simulated time of the next step.
    clock: DateTime<Utc>,
    now: DateTime<Utc>,
    made: Made,
}

fn grams(mass_g: i64) -> Option<Typed> {
    Some(Typed::Number(serde_json::Number::from(mass_g)))
}

fn demo_error(detail: String) -> AppError {
    AppError::conflict("demo", detail)
}

fn is_live(lot: &LotRow) -> bool {
    matches!(lot.state, LotState::Open | LotState::Closed) && lot.balance_g > 0
}

/// A bin's empty mass when a lot is opened: a pallet box for metal and plastics, a drum for
/// boards and hazardous parts.
fn tare_of(material: &str) -> i64 {
    match material {
        "FE-STEEL" | "PL-MIX" | "PL-ABS" | "CRT-GLASS" => 18_500,
        "RESIDUE" | "AL-MIX" | "TONER" => 4_200,
        _ => 2_300,
    }
}

impl<'a> Workshop<'a> {
    async fn open(db: &'a DatabaseConnection) -> AppResult<Workshop<'a>> {
        let mut staff = Vec::new();
        for (name, _, _) in STAFF {
            let found = user::Entity::find()
                .filter(user::Column::Name.eq(name))
                .one(db)
                .await?
                .ok_or_else(|| demo_error(format!("no user {name}")))?;
            staff.push(found);
        }
        let supervisor = staff
            .iter()
            .find(|u| users::role_of(u) == Role::Supervisor)
            .cloned()
            .ok_or_else(|| demo_error("the demo needs its supervisor".to_string()))?;
        let apprentices: Vec<user::Model> = staff
            .into_iter()
            .filter(|u| users::role_of(u) == Role::Apprentice && u.badge_code.is_some())
            .collect();
        if apprentices.is_empty() {
            return Err(demo_error("the demo needs apprentices with badges".into()));
        }

        // A station of every kind the history needs (the demo's own when missing), each with
        // a device enrolled.
        let mut existing = stations::list(db).await?;
        for (name, kind) in STATIONS {
            if !existing.iter().any(|s| s.name == name) {
                existing.push(stations::create(db, name, kind, Some(supervisor.id)).await?);
            }
        }
        let mut benches = Vec::new();
        for (name, kind) in STATIONS {
            let Some(found) = existing.iter().find(|s| s.name == name && s.active) else {
                continue;
            };
            let enrolled = stations::enrol(
                db,
                &found.code,
                &format!("tablette {}", name.to_lowercase()),
                &supervisor,
            )
            .await?;
            benches.push(Bench {
                station: found.clone(),
                kind,
                device: enrolled.device,
                signed_in: None,
                on_shift: 0,
            });
        }

        let mut kinds = HashMap::new();
        let mut kind_codes = HashMap::new();
        for kind in catalogue::kinds(db).await? {
            let fractions = kind
                .typical_fractions
                .split(';')
                .filter_map(|part| {
                    let (code, percent) = part.trim().split_once(':')?;
                    Some((code.trim().to_string(), percent.trim().parse().ok()?))
                })
                .collect();
            kind_codes.insert(kind.id, kind.code.clone());
            kinds.insert(
                kind.code.clone(),
                Kind {
                    typical_mass_g: kind.typical_mass_g,
                    fractions,
                },
            );
        }
        let now = Utc::now();
        Ok(Workshop {
            db,
            rng: StdRng::seed_from_u64(SEED),
            supervisor,
            apprentices,
            benches,
            kinds,
            kind_codes,
            full_at: HashMap::new(),
            open_lots: HashMap::new(),
            serials: HashSet::new(),
            next_id: 0,
            clock: now - Duration::days(HISTORY_DAYS),
            now,
            made: Made::default(),
        })
    }

    async fn run(&mut self) -> AppResult<Made> {
        let mut partner_ids = Vec::new();
        for spec in &PARTNERS {
            let created = partners::create(
                self.db,
                PartnerFields {
                    name: Some(spec.name.to_string()),
                    kind: Some(spec.kind),
                    address: Some(spec.address.to_string()),
                    contact: Some(spec.contact.to_string()),
                    notes: None,
                    // One partner receives its certificates in English.
                    language: Some(
                        if spec.kind == PartnerKind::MineSite {
                            "en"
                        } else {
                            "fr"
                        }
                        .to_string(),
                    ),
                },
                Some(self.supervisor.id),
            )
            .await?;
            partner_ids.push(created.id);
            self.made.partners += 1;
        }
        let processors = self.processors().await?;

        let today = self.now.date_naive();
        let mut numbers = [0usize; PARTNERS.len()];
        for (index, &partner) in SCHEDULE.iter().enumerate() {
            // Spread over the past 90 days, the newest a few days ago.
            let span = HISTORY_DAYS - 3;
            let back = HISTORY_DAYS - span * index as i64 / (SCHEDULE.len() as i64 - 1);
            let jitter = if index == 0 || index + 1 == SCHEDULE.len() {
                0
            } else {
                self.rng.gen_range(-1..=1)
            };
            let day = today - Duration::days(back + jitter);
            numbers[partner] += 1;
            let newest = index + 1 == SCHEDULE.len();
            // Received on the day the van came; worked on from the next morning.
            self.clock = self
                .clock
                .max(day.and_hms_opt(9, 0, 0).unwrap_or_default().and_utc())
                .min(self.now - Duration::minutes(5));
            crate::clock::set(self.clock);
            let received = self
                .collect(partner, partner_ids[partner], day, numbers[partner], newest)
                .await?;
            self.clock = self
                .clock
                .max(day.and_hms_opt(8, 30, 0).unwrap_or_default().and_utc() + Duration::days(1))
                .min(self.now - Duration::minutes(5));
            crate::clock::set(self.clock);
            self.new_shift();
            let count = received.len();
            for (position, found) in received.iter().enumerate() {
                let depth = if !newest || position < count / 2 {
                    Depth::Done
                } else {
                    [Depth::Received, Depth::Triaged, Depth::Started][position % 3]
                };
                self.process(found, depth).await?;
                if position % 6 == 5 {
                    self.new_shift();
                }
            }
            if index + 1 == MIDWAY {
                self.new_shift();
                self.regrade_cable().await?;
                self.melt(&["CU-WIRE", "CU-MIX"], Some(1)).await?;
                self.ship(
                    processors.batteries,
                    &["BAT-LION", "BAT-PB"],
                    "BSD-2026-0412",
                    "Transports Souss Logistique",
                    day + Duration::days(3),
                )
                .await?;
            }
        }

        self.new_shift();
        self.regrade_cable().await?;
        self.reweigh().await?;
        self.melt(&["CU-WIRE", "CU-MIX", melts::DROSS_MATERIAL], None)
            .await?;
        self.ship(
            processors.boards,
            &["PCB-HIGH", "PCB-MED", "PCB-LOW"],
            "BSD-2026-0587",
            "Transports Souss Logistique",
            today - Duration::days(2),
        )
        .await?;
        self.ship(
            processors.hazardous,
            &["CRT-GLASS", "LCD-CCFL"],
            "BSD-2026-0593",
            "Ecotrans Maroc (ADR)",
            today - Duration::days(1),
        )
        .await?;
        Ok(std::mem::take(&mut self.made))
    }

    async fn processors(&mut self) -> AppResult<Processors> {
        let mut ids = Vec::new();
        for spec in &PROCESSORS {
            let created = shipments::create_processor(
                self.db,
                self.supervisor.id,
                ProcessorRequest {
                    name: spec.name.to_string(),
                    address: spec.address.to_string(),
                    permit_number: spec.permit.to_string(),
                    families: spec.families.iter().map(|f| f.to_string()).collect(),
                    hazardous_materials: spec.hazardous.iter().map(|h| h.to_string()).collect(),
                    active: Some(true),
                },
            )
            .await?;
            ids.push(created.id);
            self.made.processors += 1;
        }
        Ok(Processors {
            boards: ids[0],
            batteries: ids[1],
            hazardous: ids[2],
        })
    }

    /// One collection from a partner, its items received (and the collection closed unless it
    /// is the newest, still being sorted).
    async fn collect(
        &mut self,
        partner: usize,
        partner_id: Uuid,
        day: NaiveDate,
        number: usize,
        newest: bool,
    ) -> AppResult<Vec<item::Model>> {
        let spec = &PARTNERS[partner];
        let collection = collections::create(
            self.db,
            CollectionFields {
                partner_id: Some(partner_id),
                received_on: Some(day),
                place: Some(spec.address.to_string()),
                reference: Some(format!("{}{:03}", spec.reference, 10 + number * 7)),
                notes: None,
            },
            Some(self.supervisor.id),
        )
        .await?;
        let count = self.rng.gen_range(8..=15);
        let total: u32 = spec.mix.iter().map(|(_, w)| w).sum();
        let mut new_items = Vec::with_capacity(count);
        for _ in 0..count {
            let mut pick = self.rng.gen_range(0..total);
            let mut code = spec.mix[0].0;
            for (kind, weight) in spec.mix {
                if pick < *weight {
                    code = kind;
                    break;
                }
                pick -= weight;
            }
            new_items.push(self.new_item(code));
        }
        let received = items::receive(
            self.db,
            &collection.code,
            new_items,
            true,
            Some(self.supervisor.id),
            None,
        )
        .await?;
        if !newest {
            collections::set_state(
                self.db,
                &collection.code,
                CollectionState::Closed,
                None,
                Some(self.supervisor.id),
            )
            .await?;
        }
        self.made.collections += 1;
        self.made.items += received.len();
        Ok(received)
    }

    /// An item of a kind as weighed at intake: its typical mass ± 15 %, bulk kinds by the bag.
    fn new_item(&mut self, kind: &str) -> NewItem {
        let typical = self.kinds.get(kind).map_or(1_000, |k| k.typical_mass_g);
        let quantity = match kind {
            "keyboard_mouse" => Some(self.rng.gen_range(10..=35)),
            "cables" => Some(self.rng.gen_range(2..=6)),
            _ => None,
        };
        let mass = typical as f64
            * f64::from(quantity.unwrap_or(1))
            * (1.0 + self.rng.gen_range(-0.15..=0.15));
        let (brand, model) = MODELS
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, models)| models[self.rng.gen_range(0..models.len())])
            .map_or((None, None), |(b, m)| {
                (Some(b.to_string()), Some(m.to_string()))
            });
        NewItem {
            kind: kind.to_string(),
            mass_g: (mass.round() as i64).max(1),
            quantity,
            brand,
            model,
            serial: self.serial(kind),
            data_bearing: None,
            condition_notes: None,
        }
    }

    /// A serial in the style of the kind's makers, unique in the demo.
    fn serial(&mut self, kind: &str) -> Option<String> {
        const ALNUM: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
        loop {
            let crt_serial = self.rng.gen_bool(0.4);
            let mut symbols = |n: usize, digits_only: bool| -> String {
                (0..n)
                    .map(|_| {
                        let range = if digits_only { 10 } else { ALNUM.len() };
                        ALNUM[self.rng.gen_range(0..range)] as char
                    })
                    .collect()
            };
            let serial = match kind {
                "desktop_pc" => format!("CZC{}", symbols(7, false)),
                "laptop" => format!("5CG{}", symbols(7, false)),
                "server" => format!("SGH{}", symbols(7, false)),
                "lcd_monitor" => format!("CN-0{}", symbols(5, false)),
                "printer" => format!("VNB{}", symbols(7, false)),
                "network_switch" => format!("FOC{}", symbols(8, false)),
                "ups" => format!("AS{}", symbols(10, true)),
                "phone" => format!("35{}", symbols(13, true)),
                "crt_monitor" if crt_serial => format!("DK{}", symbols(8, true)),
                _ => return None,
            };
            if self.serials.insert(serial.clone()) {
                return Some(serial);
            }
        }
    }

    /// A new apprentice on each bench.
    fn new_shift(&mut self) {
        for bench in &mut self.benches {
            bench.on_shift = self.rng.gen_range(0..self.apprentices.len());
        }
    }

    fn bench(&mut self, kind: StationKind) -> AppResult<usize> {
        let matching: Vec<usize> = (0..self.benches.len())
            .filter(|&i| self.benches[i].kind == kind)
            .collect();
        if matching.is_empty() {
            return Err(demo_error(format!("no active {kind} station")));
        }
        Ok(matching[self.rng.gen_range(0..matching.len())])
    }

    fn client_id(&mut self) -> String {
        self.next_id += 1;
        format!("demo-{}", self.next_id)
    }

    /// The devices' clock, a few minutes on; never beyond now.
    fn tick(&mut self) -> DateTime<Utc> {
        self.clock += Duration::minutes(self.rng.gen_range(2..=14));
        self.clock = self.clock.min(self.now - Duration::minutes(5));
        crate::clock::set(self.clock);
        self.clock
    }

    /// The apprentice on shift at a bench, signed in at its device by their badge.
    async fn operator(&mut self, bench: usize) -> AppResult<user::Model> {
        let who = self.apprentices[self.benches[bench].on_shift].clone();
        if self.benches[bench].signed_in != Some(who.id) {
            let badge = who.badge_code.as_deref().unwrap_or_default();
            let badge = Code::parse(badge)
                .map_err(|error| demo_error(format!("badge of {}: {error}", who.name)))?;
            // A sign-in writes an event: one write transaction, like a scanned badge.
            let txn = crate::db::begin_write(self.db).await?;
            let signed_in =
                stations::sign_in(&txn, &self.benches[bench].device, &badge, None).await?;
            txn.commit().await?;
            if let Err(refusal) = signed_in {
                return Err(demo_error(format!(
                    "{} cannot sign in at {}: {refusal:?}",
                    who.name, self.benches[bench].station.name
                )));
            }
            self.benches[bench].signed_in = Some(who.id);
        }
        Ok(who)
    }

    async fn performer(&mut self, bench: usize) -> AppResult<Performer> {
        let who = self.operator(bench).await?;
        Ok(Performer::person(
            who,
            Some(self.benches[bench].station.clone()),
        ))
    }

    fn supervisor_at(&self, bench: usize) -> Performer {
        Performer::person(
            self.supervisor.clone(),
            Some(self.benches[bench].station.clone()),
        )
    }

    /// An action at a bench's device by the apprentice signed in there.
    async fn act(
        &mut self,
        bench: usize,
        found: &item::Model,
        action: Action,
        fill: impl FnOnce(&mut ActionRequest),
    ) -> AppResult<()> {
        let who = self.operator(bench).await?;
        let mut request = ActionRequest {
            client_action_id: self.client_id(),
            item: found.code.clone(),
            action,
            decision: None,
            reason: None,
            sanitisation: None,
            destination: None,
            outcome: None,
            device_time: Some(self.tick()),
        };
        fill(&mut request);
        let at = &self.benches[bench];
        actions::act(self.db, &at.device, &at.station, &who, request).await?;
        Ok(())
    }

    fn route_for(&mut self, kind: &str) -> Route {
        let reuse = match kind {
            "laptop" => 0.35,
            "phone" => 0.3,
            "lcd_monitor" => 0.25,
            "network_switch" => 0.25,
            "desktop_pc" => 0.2,
            "server" => 0.15,
            "printer" => 0.1,
            _ => 0.0,
        };
        if kind == "crt_monitor" {
            if self.rng.gen_bool(0.6) {
                Route::ShipWhole
            } else {
                Route::Dismantle
            }
        } else if self.rng.gen_bool(reuse) {
            Route::Reuse
        } else {
            Route::Dismantle
        }
    }

    fn pick<'t>(&mut self, texts: &[&'t str]) -> &'t str {
        texts[self.rng.gen_range(0..texts.len())]
    }

    /// Takes an item as far through its life as `depth` says.
    async fn process(&mut self, found: &item::Model, depth: Depth) -> AppResult<()> {
        if depth == Depth::Received {
            self.made.in_progress += 1;
            return Ok(());
        }
        let kind = self
            .kind_codes
            .get(&found.kind_id)
            .cloned()
            .unwrap_or_default();
        let route = self.route_for(&kind);
        let reason = match route {
            Route::Reuse => self.pick(&REASONS_REUSE),
            Route::Dismantle => self.pick(&REASONS_DISMANTLE),
            Route::ShipWhole => self.pick(&REASONS_SHIP_WHOLE),
        };
        let triage = self.bench(StationKind::Triage)?;
        self.act(triage, found, Action::Triage, |r| {
            r.decision = Some(route);
            r.reason = Some(reason.to_string());
        })
        .await?;
        if depth == Depth::Triaged {
            self.made.in_progress += 1;
            return Ok(());
        }
        if found.data_bearing {
            self.sanitise(found, &kind, route).await?;
        }
        match route {
            Route::ShipWhole => {
                let shipping = self.bench(StationKind::Shipping)?;
                self.act(shipping, found, Action::ShipWhole, |_| {}).await?;
                self.made.shipped_whole += 1;
            }
            Route::Reuse => {
                let refurbishment = self.bench(StationKind::Refurbishment)?;
                self.act(refurbishment, found, Action::StartRefurbishment, |_| {})
                    .await?;
                if depth == Depth::Started {
                    self.made.in_progress += 1;
                    return Ok(());
                }
                let repaired = self.rng.gen_bool(0.85);
                self.act(refurbishment, found, Action::FinishRefurbishment, |r| {
                    r.outcome = Some(if repaired { "repaired" } else { "failed" }.to_string());
                })
                .await?;
                if repaired {
                    let destination = self.pick(&DESTINATIONS);
                    self.act(refurbishment, found, Action::MarkReused, |r| {
                        r.destination = Some(destination.to_string());
                    })
                    .await?;
                    self.made.reused += 1;
                } else {
                    // Refurbishment failed: the item goes to dismantling.
                    let bench = self.bench(StationKind::Dismantling)?;
                    self.act(bench, found, Action::StartDismantling, |_| {})
                        .await?;
                    self.dismantle(bench, found, &kind).await?;
                }
            }
            Route::Dismantle => {
                let bench = self.bench(StationKind::Dismantling)?;
                self.act(bench, found, Action::StartDismantling, |_| {})
                    .await?;
                if depth == Depth::Started {
                    self.made.in_progress += 1;
                    return Ok(());
                }
                self.dismantle(bench, found, &kind).await?;
            }
        }
        Ok(())
    }

    /// A sanitisation record: the disk wiped for reuse, destroyed otherwise.
    async fn sanitise(&mut self, found: &item::Model, kind: &str, route: Route) -> AppResult<()> {
        let (method, tool, verification) = match (route, kind) {
            (Route::Reuse, "phone") => (
                SanitisationMethod::Purge,
                "réinitialisation d'usine (effacement cryptographique)",
                "appareil redémarré : aucun compte ni donnée",
            ),
            (Route::Reuse, _) => (
                SanitisationMethod::Purge,
                "nwipe 0.36 (PRNG, 1 passe + vérification)",
                "relecture de 10 % des secteurs",
            ),
            (_, "phone") => (
                SanitisationMethod::Destroy,
                "poinçonneuse (puce mémoire percée)",
                "contrôle visuel de la puce percée",
            ),
            _ => (
                SanitisationMethod::Destroy,
                "perceuse à colonne (3 trous par plateau)",
                "contrôle visuel des plateaux percés",
            ),
        };
        let drive_serial = match kind {
            "desktop_pc" | "server" => Some(format!(
                "WD-WCC{}",
                self.rng.gen_range(10_000_000..99_999_999)
            )),
            "laptop" => Some(format!("S3Z{}", self.rng.gen_range(1_000_000..9_999_999))),
            _ => None,
        };
        let bench = self.bench(StationKind::Sanitisation)?;
        self.act(bench, found, Action::Sanitise, |r| {
            r.sanitisation = Some(SanitisationInput {
                method,
                tool: tool.to_string(),
                verified: true,
                verification: Some(verification.to_string()),
                success: true,
                drive_serial,
                notes: None,
            });
        })
        .await?;
        self.made.sanitised += 1;
        Ok(())
    }

    /// The item's typical fractions scaled to its mass, each weighed within ±1.5 %.
    fn weigh_fractions(&mut self, kind: &str, mass_g: i64) -> Vec<(String, i64)> {
        let fractions = self
            .kinds
            .get(kind)
            .map(|k| k.fractions.clone())
            .unwrap_or_default();
        let mut weighed = Vec::new();
        for _ in 0..20 {
            weighed = fractions
                .iter()
                .map(|(code, percent)| {
                    let share = mass_g as f64 * *percent as f64 / 100.0;
                    let noise = self.rng.gen_range(-0.015..=0.015);
                    (code.clone(), (share * (1.0 + noise)).round() as i64)
                })
                .filter(|(_, g)| *g > 0)
                .collect();
            let total: i64 = weighed.iter().map(|(_, g)| g).sum();
            // Well inside the ±3 % tolerance, rounding of small parts included.
            if (total - mass_g).abs() * 10_000 <= mass_g * 250 {
                break;
            }
        }
        weighed
    }

    /// Finishes dismantling an item: its fractions into the bench's open lots of their
    /// materials (new lots where there is none), then full lots closed.
    async fn dismantle(&mut self, bench: usize, found: &item::Model, kind: &str) -> AppResult<()> {
        let performer = self.performer(bench).await?;
        let station_id = self.benches[bench].station.id;
        let mut open = match self.open_lots.remove(&station_id) {
            Some(open) => open,
            None => lots::open_at(self.db, station_id).await?,
        };
        let weighed = self.weigh_fractions(kind, found.gross_mass_g);
        let fractions = weighed
            .iter()
            .map(|(material, mass_g)| Self::output_into(&open, material, *mass_g))
            .collect();
        let answer = dismantling::dismantle(
            self.db,
            &performer,
            DEFAULT_BP,
            None,
            DismantleRequest {
                client_id: self.client_id(),
                item: found.code.clone(),
                fractions,
                residual_to: None,
                override_request: None,
                station: None,
                device_time: Some(self.tick()),
            },
        )
        .await?;
        self.made.dismantled += 1;
        self.made.lots_opened += answer.opened_lots.len();
        if answer.opened_lots.is_empty() {
            // Every fraction went into a bin already seen: their balances grew by as much.
            for (material, mass_g) in &weighed {
                if let Some(lot) = open.iter_mut().find(|l| l.material == *material) {
                    lot.balance_g += mass_g;
                }
            }
        } else {
            open = lots::open_at(self.db, station_id).await?;
        }
        self.close_full(station_id, &performer, open).await
    }

    /// Closes the station's lots past their bin's capacity (40 to 80 kg), so later fractions
    /// open new ones, and remembers the others.
    async fn close_full(
        &mut self,
        station_id: Uuid,
        performer: &Performer,
        open: Vec<LotRow>,
    ) -> AppResult<()> {
        let mut still_open = Vec::new();
        for lot in open {
            let full_at = *self
                .full_at
                .entry(lot.code.clone())
                .or_insert_with(|| self.rng.gen_range(40_000..=80_000));
            if lot.balance_g >= full_at {
                lots::close(self.db, performer, &lot.code).await?;
                self.made.lots_closed += 1;
            } else {
                still_open.push(lot);
            }
        }
        self.open_lots.insert(station_id, still_open);
        Ok(())
    }

    /// Lots of these materials that still hold something, fullest first.
    async fn live_lots(&mut self, materials: &[&str]) -> AppResult<Vec<LotRow>> {
        // What follows changes lots: the benches look at their bins afresh.
        self.open_lots.clear();
        let mut found = Vec::new();
        for material in materials {
            let filter = LotFilter {
                material: Some(material.to_string()),
                ..Default::default()
            };
            let paging = Paging {
                page: Some(1),
                per_page: Some(500),
            };
            found.extend(
                lots::list(self.db, &filter, paging)
                    .await?
                    .items
                    .into_iter()
                    .filter(is_live),
            );
        }
        found.sort_by_key(|l| std::cmp::Reverse(l.balance_g));
        Ok(found)
    }

    /// An open lot of a material at a station, named in an output; a new one otherwise.
    fn output_into(open: &[LotRow], material: &str, mass_g: i64) -> Output {
        let lot = open.iter().find(|l| l.material == material);
        Output {
            lot: lot.map(|l| l.code.clone()),
            material: Some(material.to_string()),
            mass_g: grams(mass_g),
            mass_kg: None,
            tare_g: lot.is_none().then(|| tare_of(material)),
        }
    }

    /// The fullest copper cable bin, stripped at the sorting bench into wire and insulation;
    /// what is lost (dust, burnt coating) goes to `process_loss`.
    async fn regrade_cable(&mut self) -> AppResult<()> {
        let Some(cable) = self.live_lots(&["CU-CABLE"]).await?.into_iter().next() else {
            return Ok(());
        };
        let bench = self.bench(StationKind::Sorting)?;
        let performer = self.performer(bench).await?;
        if cable.state == LotState::Open {
            lots::close(self.db, &performer, &cable.code).await?;
            self.made.lots_closed += 1;
        }
        let wire_share = self.rng.gen_range(0.55..=0.65);
        let loss_share = self.rng.gen_range(0.02..=0.05);
        let wire = (cable.balance_g as f64 * wire_share).round() as i64;
        let plastic = (cable.balance_g as f64 * (1.0 - wire_share - loss_share)).round() as i64;
        let open = lots::open_at(self.db, self.benches[bench].station.id).await?;
        let answer = lots::transfer(
            self.db,
            &performer,
            DEFAULT_BP,
            None,
            &cable.code,
            TransferRequest {
                client_id: self.client_id(),
                mass_g: None,
                mass_kg: None,
                outputs: vec![
                    Self::output_into(&open, "CU-WIRE", wire),
                    Self::output_into(&open, "PL-MIX", plastic),
                ],
                residual_to: Some(ResidualTo::ProcessLoss),
                override_request: None,
                station: None,
            },
        )
        .await?;
        self.made.regrades += 1;
        self.made.lots_opened += answer.opened_lots.len();
        Ok(())
    }

    /// A full steel bin put back on the scale: the reading differs a little from the ledger.
    async fn reweigh(&mut self) -> AppResult<()> {
        let candidates = self.live_lots(&["FE-STEEL", "PL-MIX", "PL-ABS"]).await?;
        let Some(chosen) = candidates
            .iter()
            .find(|l| l.state == LotState::Closed)
            .or(candidates.first())
        else {
            return Ok(());
        };
        let (found, _) = crate::services::flows::find_lot(self.db, &chosen.code).await?;
        let drift =
            self.rng.gen_range(0.003..=0.012) * if self.rng.gen_bool(0.5) { 1.0 } else { -1.0 };
        let net = (chosen.balance_g as f64 * (1.0 + drift)).round() as i64;
        let net = if net == chosen.balance_g {
            net + 40
        } else {
            net
        };
        let bench = self.bench(StationKind::Sorting)?;
        let performer = self.performer(bench).await?;
        lots::reweigh(
            self.db,
            &performer,
            DEFAULT_BP,
            None,
            &chosen.code,
            ReweighRequest {
                client_id: self.client_id(),
                reading_g: grams(net + found.tare_g.unwrap_or(0)),
                reading_kg: None,
                override_request: None,
                station: None,
            },
        )
        .await?;
        self.made.reweighs += 1;
        Ok(())
    }

    /// A melt at the smelting bench: copper lots of these materials charged (all of them, or
    /// only the `limit` fullest of each material), furnace notes, ingots of 2 to 6 kg poured
    /// (85 to 92 % of the charge), dross skimmed into a `CU-DROSS` lot, and finished.
    async fn melt(&mut self, materials: &[&str], limit: Option<usize>) -> AppResult<()> {
        let mut charges = Vec::new();
        for material in materials {
            let found = self.live_lots(&[material]).await?;
            charges.extend(found.into_iter().take(limit.unwrap_or(usize::MAX)));
        }
        if charges.iter().map(|l| l.balance_g).sum::<i64>() < 2_500 {
            return Ok(());
        }
        let bench = self.bench(StationKind::Smelting)?;
        let performer = self.performer(bench).await?;
        let started = melts::start(
            self.db,
            &performer,
            StartMeltRequest {
                client_id: self.client_id(),
                station: None,
            },
        )
        .await?;
        melts::charge(
            self.db,
            &performer,
            &started.code,
            ChargeRequest {
                client_id: self.client_id(),
                lots: charges
                    .iter()
                    .map(|l| Take {
                        lot: l.code.clone(),
                        mass_g: None,
                        mass_kg: None,
                    })
                    .collect(),
                station: None,
            },
        )
        .await?;
        melts::note(
            self.db,
            &performer,
            &started.code,
            NoteRequest {
                temperature_c: Some(self.rng.gen_range(1_080..=1_120)),
                note: Some("creuset chargé, fondant borax ajouté".to_string()),
            },
        )
        .await?;
        let hot = melts::note(
            self.db,
            &performer,
            &started.code,
            NoteRequest {
                temperature_c: Some(self.rng.gen_range(1_150..=1_200)),
                note: Some("bain liquide, écrémage avant coulée".to_string()),
            },
        )
        .await?;
        let charged = hot.charged_g;
        let ingot_total = (charged as f64 * self.rng.gen_range(0.85..=0.92)).round() as i64;
        let dross = (charged as f64 * self.rng.gen_range(0.04..=0.07)).round() as i64;
        let pieces = (ingot_total + 4_499) / 4_500;
        let mut ingots = Vec::new();
        let mut left = ingot_total;
        for piece in 0..pieces {
            let mass_g = if piece + 1 == pieces {
                left
            } else {
                ingot_total / pieces + self.rng.gen_range(-250..=250)
            };
            left -= mass_g;
            ingots.push(IngotRequest {
                mass_g: grams(mass_g),
                mass_kg: None,
            });
        }
        melts::pour(
            self.db,
            &performer,
            DEFAULT_BP,
            None,
            &started.code,
            PourRequest {
                client_id: self.client_id(),
                ingots,
                dross: Vec::new(),
                finish: false,
                override_request: None,
                station: None,
            },
        )
        .await?;
        let open = lots::open_at(self.db, self.benches[bench].station.id).await?;
        let answer = melts::pour(
            self.db,
            &performer,
            DEFAULT_BP,
            None,
            &started.code,
            PourRequest {
                client_id: self.client_id(),
                ingots: Vec::new(),
                dross: vec![Self::output_into(&open, melts::DROSS_MATERIAL, dross)],
                finish: true,
                override_request: None,
                station: None,
            },
        )
        .await?;
        self.made.melts += 1;
        self.made.charged_g += charged;
        self.made.ingots += pieces as usize;
        self.made.ingot_g += ingot_total;
        self.made.lots_opened += answer.opened_lots.len() + pieces as usize;
        Ok(())
    }

    /// Every lot of these materials still in the workshop, bins closed and shipped together
    /// to a processor by the supervisor at the shipping bench.
    async fn ship(
        &mut self,
        processor_id: Uuid,
        materials: &[&str],
        document: &str,
        carrier: &str,
        shipped_on: NaiveDate,
    ) -> AppResult<()> {
        let found = self.live_lots(materials).await?;
        if found.is_empty() {
            return Ok(());
        }
        let bench = self.bench(StationKind::Shipping)?;
        let performer = self.supervisor_at(bench);
        for lot in found.iter().filter(|l| l.state == LotState::Open) {
            lots::close(self.db, &performer, &lot.code).await?;
            self.made.lots_closed += 1;
        }
        let shipped = shipments::ship(
            self.db,
            &performer,
            ShipmentRequest {
                client_id: self.client_id(),
                processor_id,
                shipped_on: shipped_on.min(self.now.date_naive()),
                transport_document: document.to_string(),
                carrier: carrier.to_string(),
                lots: found
                    .iter()
                    .map(|l| Take {
                        lot: l.code.clone(),
                        mass_g: None,
                        mass_kg: None,
                    })
                    .collect(),
                station: None,
            },
        )
        .await?;
        self.made.shipments += 1;
        self.made.shipped_g += shipped.total_g;
        Ok(())
    }
}
