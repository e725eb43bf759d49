//! int8 matrix products for `--precision int8`: libtorch's fbgemm kernels (VNNI on CPUs that
//! have it) with one scale per output channel.
//!
//! libtorch's dynamic int8 linear (`fbgemm_linear_int8_weight_fp32_activation`) quantises the
//! activations per batch and takes one scale for the whole weight. One scale per weight is what
//! made PyTorch's `quantize_dynamic` drift from fp32 (mean embedding cosine 0.929, with its 7-bit
//! activations; 0.978 at 8 bits; bench/int8_probe.py): a few rows with large weights set the
//! scale, and every other row keeps only a few levels. Here each row is divided by its own
//! largest magnitude before quantising, and the product's column is multiplied back afterwards,
//! which is exactly per-channel quantisation through the per-tensor kernel (cosine 0.992).

use tch::{Kind, Tensor};

/// One linear map's weights in int8 with a scale per output channel.
pub(crate) struct Int8Linear {
    /// Quantised rows, `round(127 · W[i] / max|W[i]|)`, (out, in), int8.
    q: Tensor,
    /// fbgemm's packed form of `q`.
    packed: Tensor,
    /// Row sums of `q` (int32), which fbgemm uses to remove the activations' zero point.
    col_offsets: Tensor,
    /// `max|W[i]| / 127` per output channel (fp32).
    scale: Tensor,
    bias: Tensor,
    zero_bias: Tensor,
}

impl Int8Linear {
    /// Quantises an fp32 (or any float) weight `w` (out × in) with its bias, and runs it once
    /// on a tiny input: libtorch marks these kernels deprecated and says so on stderr the
    /// first time each runs, which is muted here (the kernels are in every 2.x release).
    pub(crate) fn new(w: &Tensor, b: &Tensor) -> Result<Int8Linear, tch::TchError> {
        quiet_stderr(|| Int8Linear::quantise(w, b))
    }

    fn quantise(w: &Tensor, b: &Tensor) -> Result<Int8Linear, tch::TchError> {
        let w = w.to_kind(Kind::Float).contiguous();
        let amax = w.abs().amax([1].as_slice(), true).clamp_min(1e-8);
        let q = (&w / &amax * 127.0)
            .round()
            .clamp(-127.0, 127.0)
            .to_kind(Kind::Int8)
            .contiguous();
        let col_offsets = q.sum_dim_intlist([1].as_slice(), false, Kind::Int);
        let packed = q.f_fbgemm_pack_quantized_matrix()?;
        let bias = b.to_kind(Kind::Float).contiguous();
        let lin = Int8Linear {
            zero_bias: bias.zeros_like(),
            scale: (amax / 127.0).squeeze_dim(1),
            q,
            packed,
            col_offsets,
            bias,
        };
        let _ = lin.apply(&Tensor::zeros([1, w.size()[1]], (Kind::Float, w.device())))?;
        Ok(lin)
    }

    /// `x·Wᵀ + b` for an fp32 `x` of any leading shape; the result is fp32.
    pub(crate) fn apply(&self, x: &Tensor) -> Result<Tensor, tch::TchError> {
        let y = x
            .to_kind(Kind::Float)
            .contiguous()
            .f_fbgemm_linear_int8_weight_fp32_activation(
                &self.q,
                &self.packed,
                &self.col_offsets,
                tch::Scalar::float(1.0),
                tch::Scalar::int(0),
                &self.zero_bias,
            )?;
        self.bias.f_addcmul(&y, &self.scale)
    }
}

/// Runs `f` with file descriptor 2 pointed at /dev/null (libtorch writes its warnings there
/// directly, past Rust's stderr).
fn quiet_stderr<T>(f: impl FnOnce() -> T) -> T {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") else {
            return f();
        };
        // SAFETY: dup/dup2/close on descriptors this function owns or restores before returning.
        let saved = unsafe { libc::dup(2) };
        if saved < 0 {
            return f();
        }
        unsafe { libc::dup2(null.as_raw_fd(), 2) };
        let out = f();
        unsafe {
            libc::dup2(saved, 2);
            libc::close(saved);
        }
        out
    }
    #[cfg(not(unix))]
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel_err(a: &Tensor, b: &Tensor) -> f64 {
        let d = (a - b).norm().double_value(&[]);
        d / b.norm().double_value(&[])
    }

    #[test]
    fn int8_linear_matches_fp32_closely_and_keeps_shapes() {
        tch::manual_seed(7);
        let w = Tensor::randn([48, 32], (Kind::Float, tch::Device::Cpu)) * 0.05;
        let b = Tensor::randn([48], (Kind::Float, tch::Device::Cpu));
        let x = Tensor::randn([3, 5, 32], (Kind::Float, tch::Device::Cpu));
        let want = x.linear(&w, Some(&b));
        let got = Int8Linear::new(&w, &b).unwrap().apply(&x).unwrap();
        assert_eq!(got.size(), vec![3, 5, 48]);
        let e = rel_err(&got, &want);
        assert!(e < 0.02, "relative error {e}");
    }

    #[test]
    fn per_channel_scales_keep_small_rows_faithful() {
        // One row 1,000 times larger than the rest: with one scale for the whole weight the
        // small rows would round to a handful of levels; per channel they keep 8 bits.
        tch::manual_seed(11);
        let w = Tensor::randn([16, 64], (Kind::Float, tch::Device::Cpu)) * 0.01;
        let _ = w.get(0).g_mul_scalar_(1000.0);
        let b = Tensor::zeros([16], (Kind::Float, tch::Device::Cpu));
        let x = Tensor::randn([8, 64], (Kind::Float, tch::Device::Cpu));
        let want = x.linear(&w, Some(&b)).narrow(1, 1, 15);
        let got = Int8Linear::new(&w, &b)
            .unwrap()
            .apply(&x)
            .unwrap()
            .narrow(1, 1, 15);
        let e = rel_err(&got, &want);
        assert!(e < 0.02, "small rows' relative error {e}");
    }
}
