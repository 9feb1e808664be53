//! Criterion benchmarks of the registry's hot paths (issue #7): a reuse lookup, creating a
//! `[1]` variable, `unique_name` deep into one base name's sequence, and a prefix filter over
//! a large collection. `cargo run --release --example registry_bench` prints the headline
//! figures (with the 10^6-variable build and its memory) in one go.
//!
//! Run with `cargo bench -p scope-runtime --bench registry`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use scope_runtime::{Collection, Initializer, Registry, Reuse, VarSpec};

fn one() -> VarSpec {
    VarSpec::new()
        .shape([1])
        .initializer(Initializer::Constant(0.1))
}

/// `get_variable` with reuse on, over 10,000 existing names in three nested scopes.
fn reuse(c: &mut Criterion) {
    let reg = Registry::with_seed(0);
    let names: Vec<String> = (0..10_000).map(|i| format!("v{i}")).collect();
    let scopes = (
        reg.variable_scope("outer").enter().expect("scope"),
        reg.variable_scope("middle").enter().expect("scope"),
        reg.variable_scope("inner").enter().expect("scope"),
    );
    for name in &names {
        reg.get_variable(name, one()).expect("create");
    }
    let captured = reg.current_variable_scope();
    let _reuse = reg
        .variable_scope(&captured)
        .reuse(Reuse::Yes)
        .enter()
        .expect("re-enter");
    let mut i = 0;
    c.bench_function("get_variable_reuse", |b| {
        b.iter(|| {
            i = (i + 7919) % names.len();
            black_box(reg.get_variable(&names[i], VarSpec::new()).expect("reuse"))
        })
    });
    drop(_reuse);
    drop(scopes);
}

/// `get_variable` creating a `[1]` variable in three nested scopes, in a registry that
/// grows by one variable per iteration.
fn create(c: &mut Criterion) {
    let reg = Registry::with_seed(0);
    let _scopes = (
        reg.variable_scope("outer").enter().expect("scope"),
        reg.variable_scope("middle").enter().expect("scope"),
        reg.variable_scope("inner").enter().expect("scope"),
    );
    let mut i = 0u64;
    c.bench_function("get_variable_create", |b| {
        b.iter_batched(
            || {
                i += 1;
                format!("v{i}")
            },
            |name| black_box(reg.get_variable(&name, one()).expect("create")),
            BatchSize::SmallInput,
        )
    });
}

/// `unique_name("v")` after 100,000 names of the same base: must not grow with the count.
fn unique_name(c: &mut Criterion) {
    let reg = Registry::with_seed(0);
    let _ns = reg.name_scope("ns").enter().expect("name scope");
    for _ in 0..100_000 {
        reg.unique_name("v");
    }
    c.bench_function("unique_name_after_100k", |b| {
        b.iter(|| black_box(reg.unique_name("v")))
    });
}

/// `collection(Global, prefix)` over 100,000 variables, 1% of which match.
fn filter(c: &mut Criterion) {
    let reg = Registry::with_seed(0);
    for block in 0..100 {
        let _s = reg
            .variable_scope(format!("block{block}"))
            .enter()
            .expect("scope");
        for v in 0..1_000 {
            reg.get_variable(&format!("v{v}"), one()).expect("create");
        }
    }
    c.bench_function("prefix_filter_100k", |b| {
        b.iter(|| black_box(reg.collection(Collection::Global, Some("block42/"))))
    });
}

criterion_group!(benches, reuse, create, unique_name, filter);
criterion_main!(benches);
