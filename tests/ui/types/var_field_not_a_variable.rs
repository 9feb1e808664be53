use scope::variable_scope;

#[variable_scope("dense")]
pub struct Dense {
    #[var(shape = [2])]
    pub biases: Vec<f32>,
}

fn main() {}
