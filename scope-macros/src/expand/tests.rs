use quote::quote;

/// Whether `out` names a path through the crate `name` (`name ::` or `:: name`).
fn mentions(out: &proc_macro2::TokenStream, name: &str) -> bool {
    let text = out.to_string();
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .windows(2)
        .any(|w| (w[0] == name && w[1] == "::") || (w[0] == "::" && w[1] == name))
}

/// With `crate = tf`, generated code reaches the runtime through `tf` only: `::scope`
/// still resolves in this package and in trybuild's, so only the tokens can show it.
#[test]
fn crate_key_replaces_every_scope_path() {
    let attr = super::variable_scope(
        quote!(crate = tf, "dense", n: usize),
        quote! {
            pub struct Dense {
                #[var(shape = [n], init = random_normal(0.0, 0.5), dtype = f64)]
                pub w: Variable,
                #[var(shape = [n], when = n > 1)]
                pub b: Option<Variable>,
                #[model(repeat = n, args(n))]
                pub cells: Vec<Cell>,
                #[model(default_name, args(n))]
                pub last: Cell,
                #[var(tied = w.clone(), shape = [n])]
                pub t: Variable,
            }
        },
    );
    let dsl = super::model(quote! {
        pub struct Cell(crate = tf, "cell", n: usize) {
            inner { k: [n] = constant(1.0), s: i64[] = zeros }
            #[model(scope = "x")] d: model Dense(n),
        }
        pub struct Tail("tail", n: usize, crate = "tf") { k: [n] = constant(C) }
    });
    // The fallback too: a stray key is an error, and the stubs still use `tf`.
    let fallback = super::model(quote! {
        pub struct Bad(crate = tf, "bad") { k: [1] = nope }
    });
    for out in [&attr, &dsl, &fallback] {
        let text = out.to_string();
        assert!(text.contains("tf :: __private"), "{text}");
        assert!(!mentions(out, "scope"), "{text}");
    }
    assert!(fallback.to_string().contains("compile_error"));
}

#[test]
fn crate_key_errors() {
    let twice = super::model(quote! {
        pub struct M(crate = tf, "m", crate = tf) { k: [1] }
    });
    assert!(twice.to_string().contains("duplicate `crate`"), "{twice}");
    let not_a_path = super::model(quote! {
        pub struct M(crate = "a b", "m") { k: [1] }
    });
    assert!(
        not_a_path.to_string().contains("is no path"),
        "{not_a_path}"
    );
    let default = super::model(quote! {
        pub struct M("m") { k: [1] }
    });
    assert!(default.to_string().contains(":: scope :: __private"));
    assert!(mentions(&default, "scope"));
}
