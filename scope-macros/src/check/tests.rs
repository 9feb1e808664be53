//! Unit tests of the cross-field checks, counting the errors each declaration gets.
use super::*;
use proc_macro2::TokenStream;
use quote::quote;

fn dsl_errors(input: TokenStream) -> usize {
    let cx = Ctxt::new();
    for def in crate::parse::dsl::parse(input, &cx).unwrap() {
        check(&def, &cx);
    }
    cx.check().map_or_else(|e| e.into_iter().count(), |()| 0)
}

#[test]
fn the_seed_rnn_is_clean() {
    assert_eq!(
        dsl_errors(quote! {
            pub struct Rnn("rnn", i: usize, h: usize) {
                input_layer { weights: [i, h], biases: [h] }
                output_layer { weights: [h, 2], biases: [2] }
            }
        }),
        0
    );
}

#[test]
fn duplicates_after_overrides() {
    assert_eq!(
        dsl_errors(quote! {
            struct M("m") {
                w: [1],
                #[var(name = "w")] v: [1],
                w2: [1],
                w2 { x: [1] }
            }
        }),
        2
    );
}

#[test]
fn names_compare_as_tf_compares_them() {
    assert_eq!(
        dsl_errors(quote! {
            struct M("m", n: usize) {
                W: [1],
                w: [1],
                Layer { a: [1] }
                layer { b: [1] }
                #[var(name = "cell/kernel")] k: [1],
                cell { kernel: [1] }
                #[var(name = "x/")] x: [1],
                #[var(name = "/y")] y: [1],
                #[var(name = "a//b")] z: [1],
                #[model(repeat = n, scope = "Block")] blocks: model Cell,
                block_0 { c: [1] }
                #[var(name = "cell/bias")] bias: [1],
            }
        }),
        // w, layer, cell/kernel, x/, /y, a//b, block_0
        7
    );
}

#[test]
fn initializers_the_dtype_cannot_hold() {
    assert_eq!(
        dsl_errors(quote! {
            struct M("m") {
                a: i32[2] = constant(0.5),
                b: bool[1] = random_normal(0.0, 1.0),
                c: i64[2] = glorot_uniform,
                d: bool[1] = constant(1),
                e: i64[1] = constant(1f64),
                ok1: i32[1] = constant(-3),
                ok2: bool[1] = constant(false),
                ok3: f64[1] = constant(1),
                ok4: i32[1] = constant(C),
                ok5: [1] = random_normal(0f64, 1f64),
            }
        }),
        5
    );
}

#[test]
fn bad_names() {
    assert_eq!(
        dsl_errors(quote! {
            struct M("_m") {
                #[var(name = "a:b")] v: [1],
                #[var(name = "")] u: [1],
                #[model(scope = "c d")] c: model Cell,
            }
        }),
        4
    );
}

#[test]
fn names_taken_from_identifiers() {
    assert_eq!(
        dsl_errors(quote! {
            struct M("m") {
                poids_é: [1],
                #[var(name = "poids")] poids_è: [1],
                couche_é { w: [1] }
                r#type: [1],
            }
        }),
        // poids_é, couche_é
        2
    );
}

#[test]
fn shapes_and_fields() {
    assert_eq!(
        dsl_errors(quote! {
            struct M("m", n: usize, reg: usize) {
                none:,
                both: [2] = value(x),
                a { b: [1] }
                a_b: [1],
                n: [1],
            }
        }),
        // reg, none, both, duplicate field a_b, field n shadows arg
        5
    );
}

#[test]
fn derived_debug_and_reserved_fields() {
    assert_eq!(
        dsl_errors(quote! {
            #[derive(Clone, core::fmt::Debug)]
            struct M("m") { __scope_handle: [1] }
        }),
        2
    );
}

#[test]
fn arguments_the_args_tuple_cannot_hold() {
    let bad = [
        quote!(&Config),
        quote!(&mut [f32]),
        quote!(impl Fn(f64) -> f64),
        quote!(_),
        quote!(Vec<&str>),
        quote!(Config<'a>),
        quote!((usize, Cow<'_, str>)),
        quote!(Box<dyn Init + 'a>),
        quote!(&'static [&Config]),
    ];
    let mut parameters = 0;
    for ty in bad {
        let parsed: Type = syn::parse2(ty.clone()).unwrap();
        let problem = unstorable(&parsed);
        assert!(problem.is_some(), "{ty}");
        parameters += usize::from(problem.unwrap().fits_a_parameter());
    }
    // All but `_`, `Config<'a>` and `dyn Init + 'a`.
    assert_eq!(parameters, 6);
    for (ty, fix) in [
        (quote!(dyn Fn() -> usize), "`f: Box<dyn Fn() -> usize>`"),
        (quote!([f32]), "`f: Vec<f32>`"),
        (quote!(str), "`f: String`"),
    ] {
        let parsed: Type = syn::parse2(ty.clone()).unwrap();
        let problem = unstorable(&parsed).unwrap();
        assert!(!problem.fits_a_parameter());
        assert!(problem.message("f").contains(fix), "{ty}");
    }
    let paren: Type = syn::parse_quote!((&[f32]));
    let message = unstorable(&paren).unwrap().message("xs");
    assert!(message.contains("`xs: Vec<f32>`"), "{message}");
    let good = [
        quote!(usize),
        quote!(&'static str),
        quote!(Option<Config>),
        quote!(Box<dyn Fn(&str) -> &str>),
        quote!(fn(&f32) -> f32),
        quote!(Cow<'static, str>),
        quote!(<T as Tr>::Out),
    ];
    for ty in good {
        let parsed: Type = syn::parse2(ty.clone()).unwrap();
        assert!(unstorable(&parsed).is_none(), "{ty}");
    }
}

#[test]
fn repeated_prefixes_clash_with_their_elements() {
    assert_eq!(
        dsl_errors(quote! {
            struct M("m", n: usize) {
                #[model(repeat = n)] layer: model Cell,
                layer_0 { w: [1] }
                #[model(scope = "layer_12")] other: model Cell,
                #[model(repeat = n, scope = "layer")] again: model Cell,
                layer_x { w: [1] }
                #[var(name = "layer")] layer_var: [1],
                #[model(scope = "cell_1")] c: model Cell,
                #[model(repeat = n, scope = "cell")] cells: model Cell,
            }
        }),
        // layer_0, layer_12, second `layer` prefix, `cell` after `cell_1`
        4
    );
}

#[test]
fn repeat_patterns() {
    assert_eq!(
        dsl_errors(quote! {
            struct M("model", n: usize) {
                #[model(repeat = n, scope = "h{i}")] h: model Cell,
                #[model(repeat = n, scope = "cell")] cells: model Cell,
                #[model(repeat = n, scope = "x{i}_ln")] x: model Cell,
                #[model(repeat = n)] layer: model Cell,
                h_extra { w: [1] }
                hx { w: [1] }
            }
        }),
        0
    );
    assert_eq!(
        dsl_errors(quote! {
            struct M("model", n: usize) {
                #[model(repeat = n, scope = "h{i}{i}")] a: model Cell,
                #[model(repeat = n, scope = "h{n}")] b: model Cell,
                #[model(repeat = n, scope = "h {i}")] c: model Cell,
                #[model(repeat = n, scope = "")] d: model Cell,
                #[model(repeat = n, scope = "h{i}")] e: model Cell,
                // `h10` is both `h{i}` (10) and `h1{i}` (0).
                #[model(repeat = n, scope = "h1{i}")] f: model Cell,
                #[model(repeat = n, scope = "H{i}")] g: model Cell,
                // `h3` is element 3 of `h{i}`.
                h3 { w: [1] }
                // `layer_{i}` and `layer{i}` do not meet.
                #[model(repeat = n, scope = "layer{i}")] i: model Cell,
                #[model(repeat = n, scope = "layer")] j: model Cell,
            }
        }),
        // a, b, c, d, f, g, h3
        7
    );
}

#[test]
fn scope_names_have_no_empty_component() {
    assert_eq!(
        dsl_errors(quote! {
            struct M("m/", n: usize) {
                #[model(scope = "c//d")] c: model Cell,
                #[model(scope = "/c")] d: model Cell,
                #[model(default_name = "e/")] e: model Cell,
                #[model(repeat = n, scope = "h//{i}")] h: model Cell,
                #[scope(name = "a//b")] s { w: [1] }
                #[model(scope = "ok/nested")] f: model Cell,
            }
        }),
        6
    );
}

#[test]
fn kept_arguments() {
    assert_eq!(
        dsl_errors(quote! {
            struct M("m", cfg: Cfg, pair: (usize, usize)) {
                #[keep] cfg,
                /// Docs travel.
                #[keep] pair,
                w: [cfg.n, pair.0],
            }
        }),
        0
    );
    assert_eq!(
        dsl_errors(quote! {
            struct M("m", cfg: Cfg) {
                #[keep] config,
                #[keep] cfg,
                #[keep] cfg,
                #[keep(x)] x,
                #[keep] typed: Cfg,
                #[keep] #[var(shape = [1])] v,
                s { #[keep] cfg, }
            }
        }),
        // config, second cfg, keep(x), x, typed (a type; no argument), v (#[var]; no
        // argument), sub-scope
        9
    );
}

#[test]
fn default_names_are_predicted() {
    assert_eq!(
        dsl_errors(quote! {
            struct M("m") {
                #[model(default_name = "dense")] a: model Dense,
                #[model(default_name = "dense")] b: model Dense,
                #[model(default_name)] c: model Dense,
                #[model(default_name)] d: model Dense,
                // TF gave `b` this name: reopening it would clash.
                #[model(scope = "dense_1")] e: model Dense,
                #[model(scope = "query")] f: model Dense,
                // `query` is taken: this one is `query_1`, no clash.
                #[model(default_name = "query")] g: model Dense,
            }
        }),
        1
    );
}

#[test]
fn forms_that_do_not_go_together() {
    assert_eq!(
        dsl_errors(quote! {
            struct M("m", n: usize, t: Variable) {
                #[model(repeat = n, when = true)] a: model Cell,
                #[model(repeat = n, default_name)] b: model Cell,
                #[model(scope = "x", default_name)] c: model Cell,
                #[var(tied = t, when = true)] d: [1],
                #[var(tied = t, trainable = false, name = "e")] e: [1] = zeros,
                #[var(tied = t)] f:,
                #[model(default_name = "a b")] g: model Cell,
                #[scope(name = "a:b")] h { w: [1] }
            }
        }),
        // a, b, c, d, e: trainable, name, init; f: no shape; g, h: names
        10
    );
}

#[test]
fn tied_variables_take_no_name_in_the_scope() {
    assert_eq!(
        dsl_errors(quote! {
            struct M("m", t: Variable) {
                w: [1],
                #[var(tied = t)] w_tied: [1],
                #[var(tied = t)] r#type: [2],
            }
        }),
        0
    );
}

#[test]
fn two_default_scopes_of_one_type() {
    assert_eq!(
        dsl_errors(quote! {
            struct M("m") { a: model Cell, b: model Cell, #[model(scope = "c")] c: model Cell }
        }),
        1
    );
}
