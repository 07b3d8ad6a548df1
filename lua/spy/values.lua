-- Allowed string values of keywords whose check lives in the analysis plan
-- (in Syncopy's validation order and wording) rather than in the keyword
-- spec.  They are added to what spy._spec returns, so help() prints "one of
-- ..." and Tab completes them like the values the spec itself lists.
return function(spy)
  local windows = "hann|hamming|blackman|blackmanharris|bartlett|barthann|bohman|boxcar|"
    .. "cosine|flattop|gaussian|general_cosine|general_gaussian|general_hamming|kaiser|"
    .. "kaiser_bessel_derived|chebwin|lanczos|nuttall|parzen|taylor|triang|tukey|dpss"
  local extra = {
    freqanalysis = {taper = windows, pad = "maxperlen|nextpow2", foi = "all", foilim = "all",
                    toi = "all"},
    preprocessing = {
      filter_class = "but|firws",
      filter_type = "lp|hp|bp|bs",
      direction = "twopass|onepass|onepass-minphase",
      window = "hamming|hann|blackman",
      hilbert = "abs|complex|real|imag|absreal|absimag|angle",
    },
    resampledata = {method = "downsample|resample"},
  }
  local spec = spy._spec
  spy._spec = function(f)
    local s = spec(f)
    if type(s) ~= "table" or type(s.name) ~= "string" then return s end
    local add = extra[s.name:gsub("^spy%.", "")]
    if add and type(s.kw) == "table" then
      for _, k in ipairs(s.kw) do
        if add[k.name] and not k.allowed then k.allowed = add[k.name] end
      end
    end
    return s
  end
end
