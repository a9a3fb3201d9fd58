use super::*;
use parquet::file::reader::{FileReader, SerializedFileReader};

fn row(id: &str, ts: i64) -> EventRow {
    EventRow {
        event_id: id.into(),
        issue_id: Some(42),
        event_type: "error".into(),
        timestamp: ts,
        received: ts + 5,
        level: "error".into(),
        platform: "python".into(),
        release: Some("app@1.0".into()),
        title: "ValueError: bad".into(),
        exception_type: Some("ValueError".into()),
        user_hash: Some("abc".into()),
        tags: vec![("browser".into(), "Firefox".into()), ("server_name".into(), "web-1".into())],
        ..Default::default()
    }
}

#[test]
fn rows_round_trip_through_parquet() {
    let mut transaction = row("t1", 3_000);
    transaction.issue_id = None;
    transaction.event_type = "transaction".into();
    transaction.duration_ms = Some(12.5);
    transaction.tags.clear();
    let rows = vec![row("a", 1_000), row("b", 2_000), transaction];
    let bytes = encode(&rows).unwrap();
    assert_eq!(&bytes[..4], b"PAR1");
    assert_eq!(decode(bytes).unwrap(), rows);
}

#[test]
fn the_file_schema_is_the_glue_table() {
    let glue: Vec<serde_json::Value> = serde_json::from_str(COLUMNS_JSON).unwrap();
    let bytes = encode(&[row("a", 1)]).unwrap();
    let reader = SerializedFileReader::new(bytes::Bytes::from(bytes)).unwrap();
    let schema = reader.metadata().file_metadata().schema_descr();
    let root = schema.root_schema();
    let fields = root.get_fields();
    assert_eq!(fields.len(), glue.len());
    for (field, column) in fields.iter().zip(&glue) {
        assert_eq!(field.name(), column["name"].as_str().unwrap());
        let physical = if field.is_primitive() { format!("{:?}", field.get_physical_type()) } else { "GROUP".into() };
        let expected = match column["type"].as_str().unwrap() {
            "string" => "BYTE_ARRAY",
            "bigint" | "timestamp" => "INT64",
            "double" => "DOUBLE",
            "map<string,string>" => "GROUP",
            other => panic!("no mapping for {other}"),
        };
        assert_eq!(physical, expected, "column {}", field.name());
    }
    let ts = fields.iter().find(|f| f.name() == "timestamp").unwrap();
    assert!(format!("{:?}", ts.get_basic_info().logical_type_ref()).contains("Timestamp"));
}

#[test]
fn merge_keeps_one_row_per_event_in_time_order() {
    let mut again = row("a", 1_000);
    again.received += 100;
    let merged = merge(vec![row("b", 2_000), again, row("a", 1_000)]);
    assert_eq!(merged.iter().map(|r| r.event_id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(merged[0].received, 1_005, "the first delivery wins");
}

#[test]
fn partitions_are_hive_style() {
    assert_eq!(partition(7, "2026-11-25"), "parquet/events/project_id=7/dt=2026-11-25/");
}
