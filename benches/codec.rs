//! Encode and decode throughput of the wire codec, in frames and bytes per
//! second, at 0 B, 64 B, 1 KiB and 64 KiB payloads.
//!
//! Run: `cargo bench --bench codec` (add `-- --quick` for a short run).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use veltix::{frame, Decoder, RequestId};

const SIZES: &[(usize, &str)] = &[(0, "0B"), (64, "64B"), (1024, "1KiB"), (65536, "64KiB")];
/// Frames per batch: a batch amortises the loop and is what a busy
/// connection's read hands the decoder.
const BATCH: usize = 64;

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 + 7) as u8).collect()
}

fn encode(c: &mut Criterion) {
    for unit in ["frames", "bytes"] {
        let mut g = c.benchmark_group(format!("encode_{unit}"));
        for &(n, label) in SIZES {
            let p = payload(n);
            let per = BATCH as u64 * if unit == "frames" { 1 } else { (22 + n) as u64 };
            g.throughput(if unit == "frames" {
                Throughput::Elements(per)
            } else {
                Throughput::Bytes(per)
            });
            let mut out = Vec::with_capacity(BATCH * (22 + n));
            g.bench_function(BenchmarkId::from_parameter(label), |b| {
                b.iter(|| {
                    out.clear();
                    for i in 0..BATCH {
                        frame::encode_into(
                            200,
                            RequestId::from(i as u32),
                            1_764_150_000_000,
                            black_box(&p),
                            &mut out,
                        )
                        .unwrap();
                    }
                    black_box(out.len())
                })
            });
        }
        g.finish();
    }
}

fn decode(c: &mut Criterion) {
    for unit in ["frames", "bytes"] {
        let mut g = c.benchmark_group(format!("decode_{unit}"));
        for &(n, label) in SIZES {
            let p = payload(n);
            let mut stream = Vec::new();
            for i in 0..BATCH {
                frame::encode_into(200, RequestId::from(i as u32), 1, &p, &mut stream).unwrap();
            }
            let per = BATCH as u64 * if unit == "frames" { 1 } else { (22 + n) as u64 };
            g.throughput(if unit == "frames" {
                Throughput::Elements(per)
            } else {
                Throughput::Bytes(per)
            });
            let mut d = Decoder::default();
            // Zero-copy: frames borrowed from the buffer, CRC checked (what
            // the server does before it decides whether to copy).
            g.bench_function(BenchmarkId::new("borrowed", label), |b| {
                b.iter(|| {
                    d.push(black_box(&stream));
                    let mut frames = 0;
                    while let Some(f) = d.next_ref().unwrap() {
                        assert!(f.crc_ok());
                        frames += 1;
                        black_box(&f);
                    }
                    assert_eq!(frames, BATCH);
                })
            });
            // Owned frames (one payload allocation each).
            g.bench_function(BenchmarkId::new("owned", label), |b| {
                b.iter(|| {
                    d.push(black_box(&stream));
                    let mut frames = 0;
                    while let Some(f) = d.next_frame().unwrap() {
                        frames += 1;
                        black_box(&f);
                    }
                    assert_eq!(frames, BATCH);
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, encode, decode);
criterion_main!(benches);
