"""The file names an official corpus archive holds, where the corpus's design cannot generate them.

Used to verify a download that has no published checksum (:mod:`data_fetch.integrity`):
the unpacked archive must hold exactly these utterances before its hash is recorded.

EmoDB (``emodb.bilderbar.info/download/download.zip``): 535 utterances in ``wav/``,
one line per speaker and text, ``SSTTT`` followed by the emotion letter and version
of each recording (``03a01 Fa Nc Wa`` = ``wav/03a01Fa.wav``, ``wav/03a01Nc.wav``,
``wav/03a01Wa.wav``). Counts: W 127, L 81, N 79, F 71, A 69, T 62, E 46.
"""

from __future__ import annotations

_EMODB = """
03a01 Fa Nc Wa
03a02 Fc Nc Ta Wb Wc
03a04 Ad Fd Lc Nc Ta Wc
03a05 Aa Fc Nd Tc Wa Wb
03a07 Fa Fb La Nc Wc
03b01 Fa Lb Nb Td Wa Wc
03b02 Aa La Na Tb Wb
03b03 Nb Tc Wc
03b09 La Nc Tc Wa
03b10 Ab Ec Na Nc Wb Wc
08a01 Ab Fd Lc Na Wa Wc
08a02 Ab Ac Fe La Na Tb Wc
08a04 Ff La Nc Tb Wc
08a05 Fe Lc Nb Ta Wa
08a07 Fd La Na Ta Tb Wc
08b01 Aa Fd Fe Lb Na Wa
08b02 Ff La Nb Tc Wd
08b03 Fe Lc Nb Tc Wd
08b09 Ab Fd Lc Nb Tb Wa Wc
08b10 Aa Fd La Nc Tc Wa
09a01 Ea Fa Nb Wb
09a02 Ea Eb La Wb
09a04 Fd La Nb Wa
09a05 Ed Lc Nb Tb Wb Wc
09a07 Eb Na Ta Wb Wd
09b01 Ea Na Wb
09b02 Na Tb Wc Wd
09b03 Ed Fa Fd Lb Nb Ta Wb
09b09 Ea Nd Wa
09b10 Aa Nd Wa
10a01 Ac Nb Wa
10a02 Ab Fa Lb Na Wa
10a04 Fd Nb Wa Wb
10a05 Aa Ld Tb Wb
10a07 Aa Ad La Ta Wb
10b01 Aa Ea Fa Lb
10b02 Aa La Na Wb
10b03 La Tb Wb
10b09 Ad Lb Wb
10b10 Fc Lc Wa
11a01 Aa Ab Ld Nd Wc
11a02 Ec Fb Ld Nc Tc Wc
11a04 Ac Fd Nd Wc
11a05 Ad Fb Fc Lc Na Td Wd
11a07 Ac Ld Ta Wc
11b01 Ab Eb Fc Lb Nc Wd
11b02 Ab Fd Na Td Wb
11b03 Fc Lc Nb Td Wa Wb
11b09 Ad Fd Ld Na Td Wa
11b10 Ad Ae Ld Nc Td Wa
12a01 Fb Lb Nb Wc
12a02 Ac Ec Nb Wa Wc
12a04 Wc
12a05 Ab Lb Nd Ta Wb
12a07 Ac La Wa
12b01 Ta Wa
12b02 Ad Ea Fb Na Wa Wb Wd
12b03 La Ta
12b09 Ac Td Wc
12b10 Ac Ld Wa
13a01 Ac Ea Ec Fd Lb Nb Wb
13a02 Ad Ec Fa Lc Nc Ta Wa
13a04 Ac Fc Lb Ta Wc
13a05 Aa Ea Lc Nb Tc Wa Wc
13a07 Fd Lb Na Tc Wb
13b01 Ab Ec Fc Ld Nc Wa
13b02 Fb Lc Nb Wa
13b03 Ac Ed Fd Lb Na Td Wc
13b09 Ab Ec Fb Fc La Na Wa
13b10 Ec Fa La Nc Wa Wc
14a01 Aa Ac Ea Na Wa Wc
14a02 Ab Ea Fd La Nc Tb Wa Wc
14a04 Aa Ed Lb Tb Tc Wb Wc
14a05 Aa Ac Fa Fb Lb Na Ta Tc Wa Wb
14a07 Aa Eb Fd Lc Ld Na Tc Wc
14b01 Ac Eb Fa Fc Na Wc
14b02 Aa Fb Na Tc Wb Wd
14b03 Ad Ed Lb Ta Wb
14b09 Ac Ea Fc Lb Td Wa Wc
14b10 Ad Eb Lb Nb Tc Wc
15a01 Ea Fb La Nb Wa
15a02 Ac Ea La Na Ta Wb Wd
15a04 Ab Ac Fd Nc Wa Wb
15a05 Eb Fb Lb Na Wa
15a07 Ac Eb Fa Fb Ld Nc
15b01 Ec Lb Na Wc
15b02 Aa Lb Nd Tc Wa Wc
15b03 Aa Lc Nb Tc Wa Wb
15b09 Ac Fa La Nb Ta Wb
15b10 Ac Lc Nb Nc Wa
16a01 Ec Fc Lb Nc Tb Wb
16a02 Ea Ec Lb Nb Tc Wb
16a04 Ab Ea Fa La Lc Nc Tc Wb Wc
16a05 Ab Ea Fc La Tb Wb Wc
16a07 Ea Fa Fb La Lb Nb Td Wa
16b01 Aa Eb Fa La Lc Tb Wa Wb
16b02 Aa Eb Fd Lb Wb
16b03 Ad Ea Fa Fd La Nb Ta Wb
16b09 Ab Eb Fb La Lb Wb
16b10 Aa Eb Fb Lb Tb Td Wa Wb
"""


def emodb_keys() -> frozenset[str]:
    """The 535 utterance keys of EmoDB (``03a01Fa`` ...), as :func:`data_fetch.layouts.parse_emodb` names them."""
    keys = []
    for line in _EMODB.strip().splitlines():
        prefix, *suffixes = line.split()
        keys += [prefix + suffix for suffix in suffixes]
    return frozenset(keys)
