"""Syndication / oEmbed helpers: token, status table, Tweet and oEmbed parsing, HLS.

Bodies below are trimmed copies of real syndication and oEmbed answers (social-embeds.md §3-§5);
the video and GIF bodies are built from the §4.4 shape, since no unelided real one exists.
Number goldens were produced by node (V8) with ``value.toString(radix)``.
"""

from __future__ import annotations

import copy
import json
import math

import pytest

from archiver.jsnumber import js_number_to_string
from archiver.models import Media
from archiver.platforms.syndication import (
    TOKEN_SUSPECT,
    RouteResult,
    all_video_variants,
    avatar_orig_url,
    best_mp4,
    canonical_tweet_url,
    decide_status,
    hls_media_urls,
    normalize_created_at,
    oembed_url,
    parse_oembed,
    parse_tweet,
    photo_orig_url,
    syndication_token,
    syndication_url,
    token_suspect,
)

# ------------------------------------------------------------------ JS number formatting

# (value, radix, node's value.toString(radix))
NODE_GOLDEN = [
    (1.0, 2, '1'),
    (1.0, 8, '1'),
    (1.0, 16, '1'),
    (1.0, 36, '1'),
    (7.0, 2, '111'),
    (7.0, 8, '7'),
    (7.0, 16, '7'),
    (7.0, 36, '7'),
    (35.0, 2, '100011'),
    (35.0, 8, '43'),
    (35.0, 16, '23'),
    (35.0, 36, 'z'),
    (36.0, 2, '100100'),
    (36.0, 8, '44'),
    (36.0, 16, '24'),
    (36.0, 36, '10'),
    (255.0, 2, '11111111'),
    (255.0, 8, '377'),
    (255.0, 16, 'ff'),
    (255.0, 36, '73'),
    (1000.0, 2, '1111101000'),
    (1000.0, 8, '1750'),
    (1000.0, 16, '3e8'),
    (1000.0, 36, 'rs'),
    (123456789.0, 2, '111010110111100110100010101'),
    (123456789.0, 8, '726746425'),
    (123456789.0, 16, '75bcd15'),
    (123456789.0, 36, '21i3v9'),
    (-42.0, 2, '-101010'),
    (-42.0, 8, '-52'),
    (-42.0, 16, '-2a'),
    (-42.0, 36, '-16'),
    (2147483648.0, 2, '10000000000000000000000000000000'),
    (2147483648.0, 8, '20000000000'),
    (2147483648.0, 16, '80000000'),
    (2147483648.0, 36, 'zik0zk'),
    (9007199254740992.0, 2, '100000000000000000000000000000000000000000000000000000'),
    (9007199254740992.0, 8, '400000000000000000'),
    (9007199254740992.0, 16, '20000000000000'),
    (9007199254740992.0, 36, '2gosa7pa2gw'),
    (9007199254740994.0, 2, '100000000000000000000000000000000000000000000000000010'),
    (9007199254740994.0, 8, '400000000000000002'),
    (9007199254740994.0, 16, '20000000000002'),
    (9007199254740994.0, 36, '2gosa7pa2gy'),
    (1.8446744073709552e+19, 2, '10000000000000000000000000000000000000000000000000000000000000000'),
    (1.8446744073709552e+19, 8, '2000000000000000000000'),
    (1.8446744073709552e+19, 16, '10000000000000000'),
    (1.8446744073709552e+19, 36, '3w5e11264sg00'),
    (1e+21, 2, '1101100011010111001001101011011100010111011110101000000000000000000000'),
    (1e+21, 8, '154327115334273650000000'),
    (1e+21, 16, '3635c9adc5dea00000'),
    (1e+21, 36, '5v1j4f4ds7c000'),
    (1.7976931348623157e+308, 16, 'fffffffffffff800000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'),
    (1.7976931348623157e+308, 36, '1a1e4vngaiqo0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'),
    (-1e+300, 16, '-17e43c8800759c00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'),
    (-1e+300, 36, '-fhgyjdfcg7s00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'),
    (0.5, 2, '0.1'),
    (0.5, 8, '0.4'),
    (0.5, 16, '0.8'),
    (0.5, 36, '0.i'),
    (0.1, 2, '0.0001100110011001100110011001100110011001100110011001101'),
    (0.1, 8, '0.0631463146314631464'),
    (0.1, 16, '0.1999999999999a'),
    (0.1, 36, '0.3lllllllllm'),
    (0.2, 2, '0.001100110011001100110011001100110011001100110011001101'),
    (0.2, 8, '0.146314631463146315'),
    (0.2, 16, '0.33333333333334'),
    (0.2, 36, '0.77777777778'),
    (0.3, 2, '0.010011001100110011001100110011001100110011001100110011'),
    (0.3, 8, '0.231463146314631463'),
    (0.3, 16, '0.4ccccccccccccc'),
    (0.3, 36, '0.asssssssssp'),
    (0.3333333333333333, 2, '0.010101010101010101010101010101010101010101010101010101'),
    (0.3333333333333333, 8, '0.252525252525252525'),
    (0.3333333333333333, 16, '0.55555555555554'),
    (0.3333333333333333, 36, '0.c'),
    (0.6666666666666666, 2, '0.10101010101010101010101010101010101010101010101010101'),
    (0.6666666666666666, 8, '0.525252525252525252'),
    (0.6666666666666666, 16, '0.aaaaaaaaaaaaa8'),
    (0.6666666666666666, 36, '0.o'),
    (-0.1, 2, '-0.0001100110011001100110011001100110011001100110011001101'),
    (-0.1, 8, '-0.0631463146314631464'),
    (-0.1, 16, '-0.1999999999999a'),
    (-0.1, 36, '-0.3lllllllllm'),
    (3.141592653589793, 2, '11.001001000011111101101010100010001000010110100011'),
    (3.141592653589793, 8, '3.1103755242102643'),
    (3.141592653589793, 16, '3.243f6a8885a3'),
    (3.141592653589793, 36, '3.53i5ab8p5f'),
    (2.718281828459045, 2, '10.101101111110000101010001011000101000101011101101001'),
    (2.718281828459045, 8, '2.55760521305053551'),
    (2.718281828459045, 16, '2.b7e151628aed2'),
    (2.718281828459045, 36, '2.puw5nggjf8'),
    (123.456, 2, '1111011.0111010010111100011010100111111011111001110111'),
    (123.456, 8, '173.3513615237574734'),
    (123.456, 16, '7b.74bc6a7ef9dc'),
    (123.456, 36, '3f.gez4w97ry'),
    (-987.654321, 2, '-1111011011.101001111000000110010100110000000001011'),
    (-987.654321, 8, '-1733.5170062460013'),
    (-987.654321, 16, '-3db.a78194c016'),
    (-987.654321, 36, '-rf.nk000qvgh'),
    (0.0001, 2, '0.000000000000011010001101101110001011101011000111000100001100101101'),
    (0.0001, 8, '0.0000321556135307041455'),
    (0.0001, 16, '0.00068db8bac710cb4'),
    (0.0001, 36, '0.004nym8equapq'),
    (1e-07, 2, '0.0000000000000000000000011010110101111111001010011010101111001010111101001'),
    (1e-07, 8, '0.0000000153277451527453644'),
    (1e-07, 16, '0.000001ad7f29abcaf48'),
    (1e-07, 36, '0.000061oezo085tl'),
    (4.35, 2, '100.0101100110011001100110011001100110011001100110011'),
    (4.35, 8, '4.26314631463146314'),
    (4.35, 16, '4.5999999999998'),
    (4.35, 36, '4.cllllllllk'),
    (0.9999999999999999, 2, '0.11111111111111111111111111111111111111111111111111111'),
    (0.9999999999999999, 8, '0.777777777777777776'),
    (0.9999999999999999, 16, '0.fffffffffffff8'),
    (0.9999999999999999, 36, '0.zzzzzzzzzza'),
    (1.9999999999999998, 2, '1.1111111111111111111111111111111111111111111111111111'),
    (1.9999999999999998, 8, '1.777777777777777774'),
    (1.9999999999999998, 16, '1.fffffffffffff'),
    (1.9999999999999998, 36, '1.zzzzzzzzzz'),
    (255.99999999999997, 2, '11111111.111111111111111111111111111111111111111111111'),
    (255.99999999999997, 8, '377.777777777777777'),
    (255.99999999999997, 16, 'ff.fffffffffff8'),
    (255.99999999999997, 36, '73.zzzzzzzzx'),
    (0.9999999990686774, 2, '0.111111111111111111111111111111'),
    (0.9999999990686774, 8, '0.7777777777'),
    (0.9999999990686774, 16, '0.fffffffc'),
    (0.9999999990686774, 36, '0.zzzzzxz0mx'),
    (5e-324, 36, '0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000003'),
    (1e-323, 36, '0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000005'),
    (2.2250738585072014e-308, 16, '0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000004'),
    (2.2250738585072014e-308, 36, '0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000034lmua2oev'),
    (1e-300, 36, '0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002box4rhe6qp'),
    (1.5e-100, 8, '0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000247766145332501744'),
    (1.5e-100, 16, '0.000000000000000000000000000000000000000000000000000000000000000000000000000000000014ff632b6a83e4'),
    (1.5e-100, 36, '0.0000000000000000000000000000000000000000000000000000000000000000lnxivdrijwj'),
    (1e-20, 2, '0.00000000000000000000000000000000000000000000000000000000000000000010111100111001010000100001100100100100100001000100011'),
    (1e-20, 8, '0.0000000000000000000000571624103111102106'),
    (1e-20, 16, '0.00000000000000002f394219248446'),
    (1e-20, 36, '0.0000000000001peqlzzgfqr'),
    (6.283185307179587e-14, 36, '0.000000006dq1a2xwd93'),
    (5155.625231594817, 36, '3z7.miaszni8'),
    (6356.0871094030745, 36, '4wk.34w6chwu'),
    (4238.415857682371, 36, '39q.eyy97t9x'),
    (3490.658503988659, 36, '2oy.npf5u2p5'),
    (3.1415926535897933e-15, 36, '0.000000000bhi2ay3f28n'),
    (0.9999999999999999, 3, '0.222222222222222222222222222222222'),
    (0.9999999999999999, 5, '0.44444444444444444444443'),
    (0.9999999999999999, 7, '0.6666666666666666666'),
    (0.9999999999999999, 11, '0.aaaaaaaaaaaaaaa4'),
    (0.9999999999999999, 13, '0.cccccccccccccc6'),
    (0.9999999999999999, 17, '0.ggggggggggggf'),
    (0.9999999999999999, 23, '0.mmmmmmmmmmmk'),
    (0.9999999999999999, 29, '0.sssssssssss'),
    (0.9999999999999999, 31, '0.uuuuuuuuuus'),
    (0.9999999999999999, 35, '0.yyyyyyyyyyf'),
    (0.99999999999999, 3, '0.222222222222222222222222222220221'),
    (0.99999999999999, 5, '0.44444444444444444444011'),
    (0.99999999999999, 7, '0.6666666666666666445'),
    (0.99999999999999, 11, '0.aaaaaaaaaaaaa72'),
    (0.99999999999999, 13, '0.cccccccccccc9c9'),
    (0.99999999999999, 17, '0.gggggggggggb3'),
    (0.99999999999999, 23, '0.mmmmmmmmmmda'),
    (0.99999999999999, 29, '0.sssssssssom'),
    (0.99999999999999, 31, '0.uuuuuuuuumq'),
    (0.99999999999999, 35, '0.yyyyyyyyy7k'),
    (35.99999999999999, 3, '1022.222222222222222222222222222222'),
    (35.99999999999999, 5, '120.44444444444444444444'),
    (35.99999999999999, 7, '50.66666666666666665'),
    (35.99999999999999, 11, '32.aaaaaaaaaaaaa8'),
    (35.99999999999999, 13, '29.ccccccccccccb'),
    (35.99999999999999, 17, '21.gggggggggggd'),
    (35.99999999999999, 23, '1c.mmmmmmmmmmg'),
    (35.99999999999999, 29, '16.sssssssssq'),
    (35.99999999999999, 31, '14.uuuuuuuuup'),
    (35.99999999999999, 35, '10.yyyyyyyyyf'),
    (0.9999999999999998, 3, '0.2222222222222222222222222222222211'),
    (0.9999999999999998, 5, '0.44444444444444444444443'),
    (0.9999999999999998, 7, '0.6666666666666666664'),
    (0.9999999999999998, 11, '0.aaaaaaaaaaaaaaa4'),
    (0.9999999999999998, 13, '0.cccccccccccccc'),
    (0.9999999999999998, 17, '0.ggggggggggggf'),
    (0.9999999999999998, 23, '0.mmmmmmmmmmmk'),
    (0.9999999999999998, 29, '0.ssssssssssq'),
    (0.9999999999999998, 31, '0.uuuuuuuuuup'),
    (0.9999999999999998, 35, '0.yyyyyyyyyyf'),
    (0.1, 3, '0.0022002200220022002200220022002201'),
    (0.1, 5, '0.0222222222222222222222222'),
    (0.1, 7, '0.04620462046204620463'),
    (0.1, 11, '0.11111111111111115'),
    (0.1, 13, '0.13b913b913b913c'),
    (0.1, 17, '0.1bf51bf51bf51d'),
    (0.1, 23, '0.26kg26kg26kg8'),
    (0.1, 29, '0.2q2q2q2q2q3'),
    (0.1, 31, '0.33333333333'),
    (0.1, 35, '0.3hhhhhhhhhi'),
    (0.7, 3, '0.2002200220022002200220022002200211'),
    (0.7, 5, '0.32222222222222222222222'),
    (0.7, 7, '0.4620462046204620461'),
    (0.7, 11, '0.7777777777777775'),
    (0.7, 13, '0.913b913b913b91'),
    (0.7, 17, '0.bf51bf51bf51b'),
    (0.7, 23, '0.g26kg26kg26j'),
    (0.7, 29, '0.k8k8k8k8k8j'),
    (0.7, 31, '0.lllllllllll'),
    (0.7, 35, '0.ohhhhhhhhhi'),
    (1.1020408163265305, 7, '1.05'),
    (0.2716049382716049, 9, '0.24'),
    (123.456, 10, '123.456'),
    (1e+21, 10, '1e+21'),
    (1e-07, 10, '1e-7'),
    (-1e-06, 10, '-0.000001'),
    (5e-324, 10, '5e-324'),
    (9007199254740992.0, 10, '9007199254740992'),
    (1.5415677953388414e+31, 17, '2b70a5ec6e488f000000000000'),
    (1.3305406583752764e-136, 8, '0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000306036447111053336'),
    (-6.4576804899972755e-12, 36, '-0.0000000i7uawq0jsxi'),
    (-4.4342582195166703e-197, 29, '-0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000bm4c9qn70j2'),
    (8.3815053749933375e-22, 34, '0.00000000000002akv0itj6mg'),
    (6.106371051040111e-276, 14, '0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000a0bd42465d1b41'),
    (-7.286240118335507e-124, 36, '-0.0000000000000000000000000000000000000000000000000000000000000000000000000000000n9jh1rw9hhc'),
    (7.240197227679378e-37, 30, '0.0000000000000000000000006412ekbbhl6'),
    (1.2205071412701158e+35, 2, '101111000000110010000100101101101101000011101101011000000000000000000000000000000000000000000000000000000000000000000'),
    (-1.4111302082664836e+69, 12, '-125ab4171694a4900000000000000000000000000000000000000000000000000'),
    (1.3850822627547856e+213, 23, '53b351d8h1g16000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'),
    (5.8500834094574954e-117, 15, '0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000018bb68788b17046'),
    (-9.165411812000722e+16, 23, '-444a8alm85lh2'),
    (2.5849366582374456e-194, 26, '0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001lio0kie1geld'),
    (5.013479291044358e+134, 24, '6eaca6m2211k00000000000000000000000000000000000000000000000000000000000000000000000000000000000000'),
    (1.7033882668101804e+18, 4, '1132203221221222031302200030000'),
    (3.467722627586937e+258, 36, '1k91jl76bcww00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'),
    (-2.6065789667592613e+275, 26, '-83oc0mb9n1m8000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'),
    (-1.6965804030182725e-244, 20, '-0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000006d280fbdc2hef'),
    (-4.6645554400601785e-150, 25, '-0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001j77lmi57hl2h'),
    (1.4616374818865636e-71, 6, '0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000054040100551325140433'),
    (-8.167670639936238e-110, 16, '-0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000311b3217764b32'),
    (7.793206001519636e+48, 7, '5155525204255153000100000000000000000000000000000000000000'),
    (1.2802630216505655e-21, 8, '0.00000000000000000000000602737066573032114'),
    (6.562600933359793e+34, 31, '38k768nqeu9s000000000000'),
    (-1.0867783350916245e+104, 25, '-3lnemn0hi9oo000000000000000000000000000000000000000000000000000000000000000'),
    (3.225410509806477e+148, 24, '6gi90m8fln84000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'),
    (-7.589510292596495e-99, 19, '-0.000000000000000000000000000000000000000000000000000000000000000000000000000023ia227ac4091'),
    (-3.0687485613600386e-142, 12, '-0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000882b83052123ab1'),
    (-3.8861372118627744e-26, 17, '-0.000000000000000000002bag7884c21ece'),
    (1.1161471541231893e+262, 26, '1n73l006eg1kk00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'),
    (-4.445633990513394e+295, 16, '-459b99146d33cc0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'),
    (8.226917945376994e+91, 5, '210443320441230003043414000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'),
    (-7.024176083378e+88, 4, '-2031033111213111011302133020000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'),
    (1.039346902756481e+81, 27, '76knk4ph520l000000000000000000000000000000000000000000000'),
    (4.679370861704191e-227, 15, '0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000047d84136ad99ad'),
    (-1.508348223681317e+238, 22, '-3fekcgae82gl4000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'),
    (212.6265440541406, 27, '7n.gok759men'),
    (88468315.38867025, 31, '32ojij.c1fr49'),
    (1.4287159044206266e-09, 17, '0.00000009g74db2cee1a2'),
    (74498.89820916066, 18, 'cdge.g30675318'),
    (7.470138116522579, 27, '7.cijji300e2j'),
    (3.6199644371361095e-09, 34, '0.000005k4hc1t0he3'),
    (4.93515834889631e-12, 9, '0.00000000000134808471165852682'),
    (1.5284131934826104e-08, 29, '0.0000092io3or03hf'),
    (0.5964090307319738, 26, '0.fd4cfoe29jl'),
    (59.58884283611281, 35, '1o.klbm9t5d9e'),
    (25141.411998181316, 2, '110001000110101.01101001011110001011011001111010110001'),
    (6.802834102565186e-10, 36, '0.000001hb5jxjxgcb'),
    (75087779.95916097, 23, 'bf79k1.m192d'),
    (1.1155217359587644, 12, '1.14775607b5193'),
    (45372370632.92065, 18, '42200agh6.ga54'),
    (9.718880988701143e-08, 34, '0.00004e4n692htw'),
    (91262783.93448205, 21, '1175b1h.jd2502'),
    (8416.693481724671, 14, '30d2.99ccb187b4'),
    (1.528392685496348e-08, 36, '0.00000x9pmy61txp'),
    (9534.997476535027, 2, '10010100111110.1111111101011010100111110100100001111'),
    (598.9445844602291, 3, '211011.2211111210202201201110012'),
    (0.011186772532089507, 21, '0.04jccj1h3i9e88'),
    (2.394523103380588e-06, 7, '0.0000001654251655020250452'),
    (85.65345206787877, 6, '221.353051243142440423'),
    (97798.44936773342, 10, '97798.44936773342'),
    (128.3914644997628, 12, 'a8.48454a89646b5'),
    (2650566.289400591, 29, '3ljjo.8bb5fij'),
    (96436.29060074552, 14, '27204.40d5a0abc8'),
    (0.7129489728191218, 25, '0.hkekh7kai6a9'),
    (4381.00083914504, 30, '4q1.00mjl6m1'),
    (1.2100419586826573e-06, 6, '0.000000020105555320520224013'),
    (338085.56214745535, 16, '528a5.8fe8e5484'),
    (5.88440114410351e-13, 6, '0.000000000000000135432325353513340235'),
    (7.078409465484541e-12, 16, '0.0000000007c86527dbd4d9'),
    (6.740032811030749e-13, 23, '0.0000000014l4c3gckdl5b'),
    (7.085734988865345e-07, 19, '0.00001e671i1668h65'),
    (6.689777782962805e-07, 36, '0.00014g7vu6byy9f'),
    (132311.848725025, 32, '416n.r530m4d'),
    (242.9972423957245, 28, '8i.rpnd0h6i2j'),
    (1.9040991436187772e-10, 29, '0.0000003878o0gfdio4'),
]


@pytest.mark.parametrize(("value", "radix", "expected"), NODE_GOLDEN)
def test_js_number_to_string_matches_node(value: float, radix: int, expected: str) -> None:
    assert js_number_to_string(value, radix) == expected


def test_js_number_to_string_specials() -> None:
    assert js_number_to_string(0.0, 36) == "0"
    assert js_number_to_string(-0.0, 2) == "0"
    assert js_number_to_string(math.nan, 16) == "NaN"
    assert js_number_to_string(math.inf, 16) == "Infinity"
    assert js_number_to_string(-math.inf, 2) == "-Infinity"
    assert js_number_to_string(35, 36) == "z"  # ints are accepted as JS numbers
    with pytest.raises(ValueError):
        js_number_to_string(1.0, 1)
    with pytest.raises(ValueError):
        js_number_to_string(1.0, 37)


# ------------------------------------------------------------------ token and URLs

TOKEN_GOLDEN = [
    # social-embeds.md §4.2 and the issue
    ("20", "6dq1a2xwd93"),
    ("1641086480675225601", "3z7miaszni8"),
    ("2023205364368351634", "4wk34w6chwu"),
    ("1349129669258448897", "39qeyy97t9x"),
    ("1111111111111111111", "2oynpf5u2p5"),
    # node: ((Number(id) / 1e15) * Math.PI).toString(36).replace(/(0+|\.)/g, '')
    ("1183419470331486208", "2v9tl78355"),
    ("436461658601713664", "1236nf8no4li"),
    ("1", "bhi2ay3f28n"),
    ("9999999999999999999", "o8nxcsgioad"),
    ("1629262255744503809", "3y6h7x4gn61"),
    ("1641895049427550208", "3za5ye2w3ov"),
    ("7392998140109344811", "hx5se3pl7h"),
    ("6342139363478431142", "fdgf2adnwn"),
    ("1638037727867772657", "3yy1pagotbg"),
    ("9023936221492622040", "lvhj54uumi"),
    ("5284349749070874848", "ct59vk3sidc"),
    ("2393869223722206951", "5swk8b4li6c"),
    ("6466997520885606103", "foco6samo"),
    ("6213478639865560101", "f287vml4d"),
    ("6447684830912247", "k97rwikqbn"),
    ("12678920", "2epege15165"),
    ("8711066", "1nkk8u5wxup"),
    ("8863807832952677", "ruh12jwvwim"),
]


@pytest.mark.parametrize(("tweet_id", "token"), TOKEN_GOLDEN)
def test_syndication_token_golden(tweet_id: str, token: str) -> None:
    assert syndication_token(tweet_id) == token


@pytest.mark.parametrize("bad", ["", "12a", "-5", " 20", "1.5", "12345678901234567890", "\u0661\u0662"])
def test_syndication_token_rejects_non_ids(bad: str) -> None:
    with pytest.raises(ValueError):
        syndication_token(bad)


def test_syndication_url() -> None:
    assert syndication_url("1641086480675225601") == (
        "https://cdn.syndication.twimg.com/tweet-result?id=1641086480675225601&lang=en&token=3z7miaszni8"
    )
    assert syndication_url("20", lang="es").endswith("?id=20&lang=es&token=6dq1a2xwd93")


@pytest.mark.parametrize(
    "url",
    [
        "https://twitter.com/pepephone/status/436461658601713664",
        "https://x.com/pepephone/status/436461658601713664?s=20",
        "http://mobile.twitter.com/pepephone/status/436461658601713664/",
        "https://www.x.com/pepephone/status/436461658601713664#frag",
        "https://twitter.com/#!/pepephone/status/436461658601713664",
    ],
)
def test_oembed_url_uses_twitter_com_form(url: str) -> None:
    assert canonical_tweet_url(url) == "https://twitter.com/pepephone/status/436461658601713664"
    # same encoding as the `request` echoed in oEmbed's 403 body
    assert oembed_url(url) == (
        "https://publish.twitter.com/oembed?url="
        "https%3A%2F%2Ftwitter.com%2Fpepephone%2Fstatus%2F436461658601713664"
    )


# ------------------------------------------------------------------ bodies

PHOTO_TWEET = {  # trimmed syndication-tweet-with-photo.json (2023)
    "__typename": "Tweet",
    "lang": "en",
    "created_at": "2023-03-29T14:34:41.000Z",
    "display_text_range": [0, 144],
    "entities": {
        "hashtags": [],
        "urls": [
            {
                "display_url": "github.com/reactwg/react-…",
                "expanded_url": "https://github.com/reactwg/react-native-new-architecture/discussions/110",
                "indices": [92, 115],
                "url": "https://t.co/4G6RAMfrHy",
            }
        ],
        "user_mentions": [],
        "symbols": [],
        "media": [
            {
                "display_url": "pic.twitter.com/rQd6FIwZ0U",
                "expanded_url": "https://twitter.com/SamuelSusla/status/1641086480675225601/photo/1",
                "indices": [145, 168],
                "url": "https://t.co/rQd6FIwZ0U",
            }
        ],
    },
    "id_str": "1641086480675225601",
    "text": "If you are interested about View Flattening in React Native, I wrote a short post about it: "
    "https://t.co/4G6RAMfrHy\n\nLet me know what you think! https://t.co/rQd6FIwZ0U",
    "user": {
        "id_str": "469266133",
        "name": "sammy",
        "profile_image_url_https": "https://pbs.twimg.com/profile_images/1042172116911697920/JkIt3onc_normal.jpg",
        "screen_name": "SamuelSusla",
        "verified": False,
        "is_blue_verified": False,
    },
    "mediaDetails": [
        {
            "display_url": "pic.twitter.com/rQd6FIwZ0U",
            "expanded_url": "https://twitter.com/SamuelSusla/status/1641086480675225601/photo/1",
            "ext_media_availability": {"status": "Available"},
            "indices": [145, 168],
            "media_url_https": "https://pbs.twimg.com/media/FsZNOgcWAAEQtrd.jpg",
            "original_info": {"height": 896, "width": 1995},
            "sizes": {"large": {"h": 896, "resize": "fit", "w": 1995}},
            "type": "photo",
            "url": "https://t.co/rQd6FIwZ0U",
        }
    ],
    "photos": [
        {
            "backgroundColor": {"red": 204, "green": 214, "blue": 221},
            "expandedUrl": "https://twitter.com/SamuelSusla/status/1641086480675225601/photo/1",
            "url": "https://pbs.twimg.com/media/FsZNOgcWAAEQtrd.jpg",
            "width": 1995,
            "height": 896,
        }
    ],
    "conversation_count": 1,
    "news_action_type": "conversation",
    "isEdited": False,
    "isStaleEdit": False,
}

QUOTE_TWEET = {  # trimmed syndication-tweet-with-quote.json (2023): quoted_tweet has no __typename
    "__typename": "Tweet",
    "lang": "en",
    "created_at": "2023-03-31T20:07:39.000Z",
    "entities": {
        "hashtags": [{"indices": [0, 12], "text": "ReactNative"}],
        "urls": [],
        "user_mentions": [],
        "symbols": [],
    },
    "id_str": "1641895049427550208",
    "text": "#ReactNative's new architecture renderer brings view flattening, previously an Android-only "
    "optimization, to iOS. View flattening reduces the depth of view hierarchies, lowers memory usage, "
    "and speeds up drawing times—all without extra setup!",
    "user": {
        "id_str": "378380992",
        "name": "Matt Carroll",
        "profile_image_url_https": "https://pbs.twimg.com/profile_images/1562179359884029952/zk3CijLw_normal.jpg",
        "screen_name": "mattcarrollcode",
    },
    "quoted_tweet": {
        "lang": "en",
        "reply_count": 1,
        "retweet_count": 42,
        "favorite_count": 226,
        "created_at": "2023-03-29T14:34:41.000Z",
        "id_str": "1641086480675225601",
        "text": PHOTO_TWEET["text"],
        "entities": PHOTO_TWEET["entities"],
        "user": PHOTO_TWEET["user"],
        "mediaDetails": PHOTO_TWEET["mediaDetails"],
        "photos": PHOTO_TWEET["photos"],
    },
    "isEdited": False,
}

CARD_TWEET = {  # trimmed syndication-tweet-with-card.json (2023)
    "__typename": "Tweet",
    "lang": "en",
    "self_thread": {"id_str": "1629262255744503809"},
    "created_at": "2023-02-24T23:29:26.000Z",
    "entities": {
        "hashtags": [],
        "urls": [
            {
                "display_url": "beta.reactjs.org/learn/tutorial…",
                "expanded_url": "https://beta.reactjs.org/learn/tutorial-tic-tac-toe",
                "indices": [184, 207],
                "url": "https://t.co/fI2B6TT8rL",
            }
        ],
        "user_mentions": [
            {"id_str": "1566463268", "indices": [20, 28], "name": "React", "screen_name": "reactjs"},
        ],
        "symbols": [],
    },
    "id_str": "1629262255744503809",
    "text": "📰 I recently joined @reactjs! My inaugural project was porting @sophiebits's Tic Tac Toe tutorial "
    "to the new React docs. What would you like to see in the next, in the React tutorial? https://t.co/fI2B6TT8rL",
    "user": {
        "id_str": "378380992",
        "name": "Matt Carroll",
        "profile_image_url_https": "https://pbs.twimg.com/profile_images/1562179359884029952/zk3CijLw_normal.jpg",
        "screen_name": "mattcarrollcode",
    },
    "card": {
        "card_platform": {"platform": {"audience": {"name": "production"}, "device": {"name": "Swift", "version": "12"}}},
        "name": "summary_large_image",
        "url": "https://t.co/fI2B6TT8rL",
        "binding_values": {
            "photo_image_full_size_large": {
                "image_value": {
                    "height": 419,
                    "width": 800,
                    "url": "https://pbs.twimg.com/card_img/1639232954701594625/7ayIAMcm?format=png&name=800x419",
                },
                "type": "IMAGE",
            },
            "description": {"string_value": "The library for web and native user interfaces", "type": "STRING"},
            "thumbnail_image_large": {
                "image_value": {
                    "height": 315,
                    "width": 600,
                    "url": "https://pbs.twimg.com/card_img/1639232954701594625/7ayIAMcm?format=png&name=600x600",
                },
                "type": "IMAGE",
            },
            "thumbnail_image_x_large": {
                "image_value": {
                    "height": 567,
                    "width": 1080,
                    "url": "https://pbs.twimg.com/card_img/1639232954701594625/7ayIAMcm?format=png&name=2048x2048_2_exp",
                },
                "type": "IMAGE",
            },
            "photo_image_full_size_original": {
                "image_value": {
                    "height": 567,
                    "width": 1080,
                    "url": "https://pbs.twimg.com/card_img/1639232954701594625/7ayIAMcm?format=png&name=orig",
                },
                "type": "IMAGE",
            },
            "site": {"scribe_key": "publisher_id", "type": "USER", "user_value": {"id_str": "1566463268", "path": []}},
            "thumbnail_image_color": {
                "image_color_value": {"palette": [{"rgb": {"blue": 38, "green": 32, "red": 28}, "percentage": 97.19}]},
                "type": "IMAGE_COLOR",
            },
            "title": {"string_value": "Tutorial: Tic-Tac-Toe – React", "type": "STRING"},
        },
    },
    "isEdited": False,
}

TEXT_ONLY_2026 = {  # syndication-tweet-text-only-2026.json: entity containers are `{}`
    "__typename": "Tweet",
    "lang": "en",
    "favorite_count": 14,
    "created_at": "2026-02-16T11:24:04.000Z",
    "display_text_range": [0, 155],
    "entities": {"hashtags": {}, "urls": {}, "user_mentions": {}, "symbols": {}},
    "id_str": "2023357708301455483",
    "text": "Underdocumented: `bun build --compile` supports `--splitting —format=esm` Lazy load code embedded in "
    "your single-file executable to improve CLI start time",
    "user": {
        "id_str": "2489440172",
        "name": "Jarred Sumner",
        "screen_name": "jarredsumner",
        "is_blue_verified": True,
        "profile_image_shape": "Circle",
        "verified": False,
        "profile_image_url_https": "https://pbs.twimg.com/profile_images/1342417825483300864/Vz4ChOFG_normal.jpg",
        "highlighted_label": {
            "description": "Bun",
            "badge": {"url": "https://pbs.twimg.com/profile_images/1809959835884216320/MDn6rbnJ_bigger.jpg"},
            "url": {"url": "https://twitter.com/bunjavascript", "url_type": "DeepLink"},
            "user_label_type": "BusinessLabel",
            "user_label_display_type": "Badge",
        },
    },
    "edit_control": {
        "edit_tweet_ids": ["2023357708301455483"],
        "editable_until_msecs": "1771244644000",
        "is_edit_eligible": True,
        "edits_remaining": "5",
    },
    "conversation_count": 1,
    "news_action_type": "conversation",
    "isEdited": False,
    "isStaleEdit": False,
}

AMP = "https://video.twimg.com/amplify_video/2023205304318488576"
VIDEO_VARIANTS = [
    {"content_type": "application/x-mpegURL", "url": f"{AMP}/pl/MC4uaCsa2h7OlCkT.m3u8?tag=16"},
    {"bitrate": 256000, "content_type": "video/mp4", "url": f"{AMP}/vid/avc1/566x270/AYxnjkt3c60VBmoa.mp4?tag=16"},
    {"bitrate": 2176000, "content_type": "video/mp4", "url": f"{AMP}/vid/avc1/1080x514/Lo1kQx.mp4?tag=16"},
    {"bitrate": 9000000, "content_type": "video/mp4", "url": f"{AMP}/vid/hevc/1920x914/Hv9kQ.mp4?tag=16"},
    {"bitrate": 2176000, "content_type": "video/mp4", "url": f"{AMP}/vid/avc1/1280x608/Hi7pLm.mp4?tag=16"},
    {"bitrate": 832000, "content_type": "video/mp4", "url": f"{AMP}/vid/avc1/756x360/Md3Rt.mp4?tag=16"},
]
POSTER = "https://pbs.twimg.com/amplify_video_thumb/2023205304318488576/img/ljIYhvhxV9SKP3IB.jpg"

VIDEO_TWEET = {  # built from the §4.4 shape and the elided 2026 video body
    "__typename": "Tweet",
    "lang": "und",
    "possibly_sensitive": False,
    "created_at": "2026-02-16T01:18:42.000Z",
    "display_text_range": [0, 85],
    "entities": {
        "hashtags": [],
        "urls": [],
        "user_mentions": [],
        "symbols": [],
        "media": [
            {
                "display_url": "pic.x.com/5xrYfslWJc",
                "expanded_url": "https://x.com/ExtremeBlitz__/status/2023205364368351634/video/1",
                "indices": [86, 109],
                "url": "https://t.co/5xrYfslWJc",
            }
        ],
    },
    "id_str": "2023205364368351634",
    "text": "Tom &amp; Jerry &lt;3 https://t.co/5xrYfslWJc",
    "in_reply_to_screen_name": "someone",
    "in_reply_to_status_id_str": "2023200000000000000",
    "user": {
        "id_str": "1500000000000000000",
        "name": "Extreme Blitz",
        "screen_name": "ExtremeBlitz__",
        "profile_image_url_https": "https://pbs.twimg.com/profile_images/1700000000000000000/AbCdEf_400x400.png",
    },
    "mediaDetails": [
        {
            "additional_media_info": {},
            "display_url": "pic.x.com/5xrYfslWJc",
            "expanded_url": "https://x.com/ExtremeBlitz__/status/2023205364368351634/video/1",
            "ext_media_availability": {"status": "Available"},
            "indices": [86, 109],
            "media_url_https": POSTER,
            "original_info": {"height": 514, "width": 1080, "focus_rects": []},
            "type": "video",
            "url": "https://t.co/5xrYfslWJc",
            "video_info": {"aspect_ratio": [540, 257], "duration_millis": 9516, "variants": VIDEO_VARIANTS},
        }
    ],
    "photos": [],
    "video": {
        "aspectRatio": [540, 257],
        "contentType": "media_entity",
        "durationMs": 9516,
        "mediaAvailability": {"status": "available"},
        "poster": POSTER,
        "variants": [{"type": v["content_type"], "src": v["url"]} for v in VIDEO_VARIANTS],
        "videoId": {"type": "tweet", "id": "2023205364368351634"},
        "viewCount": 0,
    },
    "conversation_count": 23,
    "news_action_type": "conversation",
}

GIF_TWEET = {  # animated_gif: one mp4 under tweet_video/, bitrate 0 (§4.4)
    "__typename": "Tweet",
    "created_at": "2024-05-01T08:00:00.000Z",
    "id_str": "1785600000000000000",
    "text": "mood https://t.co/GifGifGif1",
    "user": {
        "name": "Gif Person",
        "screen_name": "gifperson",
        "profile_image_url_https": "https://pbs.twimg.com/profile_images/1600000000000000000/Zz9_bigger.jpg",
    },
    "mediaDetails": [
        {
            "type": "animated_gif",
            "url": "https://t.co/GifGifGif1",
            "ext_media_availability": {"status": "Available"},
            "media_url_https": "https://pbs.twimg.com/tweet_video_thumb/GNq1aXoWcAA7Zz9.jpg",
            "video_info": {
                "aspect_ratio": [1, 1],
                "variants": [
                    {"bitrate": 0, "content_type": "video/mp4", "url": "https://video.twimg.com/tweet_video/GNq1aXoWcAA7Zz9.mp4"}
                ],
            },
        }
    ],
}


def _urls(media: list[Media]) -> list[tuple[str, str]]:
    return [(m.kind, m.url) for m in media]


# ------------------------------------------------------------------ parse_tweet

def test_parse_photo_tweet() -> None:
    tweet = parse_tweet(PHOTO_TWEET)
    assert tweet.id == "1641086480675225601"
    assert (tweet.author_handle, tweet.author_name) == ("SamuelSusla", "sammy")
    assert tweet.created_at == "2023-03-29T14:34:41.000Z"
    assert tweet.text == (
        "If you are interested about View Flattening in React Native, I wrote a short post about it: "
        "https://github.com/reactwg/react-native-new-architecture/discussions/110\n\nLet me know what you think! "
        "https://twitter.com/SamuelSusla/status/1641086480675225601/photo/1"
    )
    assert tweet.quoted_id is None and tweet.parent_id is None and tweet.related == []
    # the same photo from mediaDetails and photos[] appears once
    assert _urls(tweet.media) == [
        ("photo", "https://pbs.twimg.com/media/FsZNOgcWAAEQtrd?format=jpg&name=orig"),
        ("avatar", "https://pbs.twimg.com/profile_images/1042172116911697920/JkIt3onc.jpg"),
    ]
    assert all(not m.captured and m.sha256 is None for m in tweet.media)
    assert tweet.url == "https://twitter.com/SamuelSusla/status/1641086480675225601"


def test_parse_quote_tweet_returns_quoted_id_not_its_media() -> None:
    tweet = parse_tweet(QUOTE_TWEET)
    assert tweet.quoted_id == "1641086480675225601"
    assert tweet.related == [("quotes", "twitter", "1641086480675225601")]
    assert tweet.text is not None and tweet.text.startswith("#ReactNative's new architecture")
    assert _urls(tweet.media) == [
        ("avatar", "https://pbs.twimg.com/profile_images/1562179359884029952/zk3CijLw.jpg"),
    ]
    # the quoted tweet (no __typename) parses on its own, for the caller's separate snapshot
    quoted = parse_tweet(QUOTE_TWEET["quoted_tweet"])
    assert quoted.id == "1641086480675225601" and quoted.author_handle == "SamuelSusla"
    assert quoted.media[0].kind == "photo"


def test_parse_card_tweet_picks_biggest_original_card_image() -> None:
    tweet = parse_tweet(CARD_TWEET)
    assert tweet.text is not None and tweet.text.endswith(
        "in the React tutorial? https://beta.reactjs.org/learn/tutorial-tic-tac-toe"
    )
    assert _urls(tweet.media) == [
        ("avatar", "https://pbs.twimg.com/profile_images/1562179359884029952/zk3CijLw.jpg"),
        ("card", "https://pbs.twimg.com/card_img/1639232954701594625/7ayIAMcm?format=png&name=orig"),
    ]


def test_card_image_without_original_takes_largest() -> None:
    body = copy.deepcopy(CARD_TWEET)
    values = body["card"]["binding_values"]
    del values["photo_image_full_size_original"], values["thumbnail_image_x_large"]
    assert parse_tweet(body).media[-1] == Media(
        url="https://pbs.twimg.com/card_img/1639232954701594625/7ayIAMcm?format=png&name=800x419", kind="card"
    )


def test_parse_2026_text_only_with_empty_entity_containers() -> None:
    tweet = parse_tweet(TEXT_ONLY_2026)
    assert tweet.id == "2023357708301455483"
    assert (tweet.author_handle, tweet.author_name) == ("jarredsumner", "Jarred Sumner")
    assert tweet.text == TEXT_ONLY_2026["text"]
    assert tweet.created_at == "2026-02-16T11:24:04.000Z"
    # the highlighted_label badge is not the author's avatar
    assert _urls(tweet.media) == [
        ("avatar", "https://pbs.twimg.com/profile_images/1342417825483300864/Vz4ChOFG.jpg"),
    ]


@pytest.mark.parametrize("entities", [None, {}, {"urls": {}, "media": {}}, [], "junk", {"urls": None}])
def test_missing_or_odd_entities_keep_raw_text(entities: object) -> None:
    body = copy.deepcopy(PHOTO_TWEET)
    if entities is None:
        del body["entities"]
    else:
        body["entities"] = entities
    tweet = parse_tweet(body)
    assert tweet.text == PHOTO_TWEET["text"]  # t.co links stay as they are
    assert tweet.media[0].kind == "photo"


def test_entity_containers_as_objects_still_expand() -> None:
    body = copy.deepcopy(PHOTO_TWEET)
    body["entities"]["urls"] = {"0": body["entities"]["urls"][0]}
    body["entities"]["media"] = {}
    tweet = parse_tweet(body)
    assert "https://github.com/reactwg/react-native-new-architecture/discussions/110" in (tweet.text or "")
    assert (tweet.text or "").endswith("https://t.co/rQd6FIwZ0U")


def test_parse_video_tweet() -> None:
    tweet = parse_tweet(VIDEO_TWEET)
    assert tweet.text == "Tom & Jerry <3 https://x.com/ExtremeBlitz__/status/2023205364368351634/video/1"
    assert tweet.parent_id == "2023200000000000000"
    assert tweet.related == [("reply_to", "twitter", "2023200000000000000")]
    # HEVC has the top bitrate but is skipped; the 2176000 tie goes to 1280x608; ?tag= is kept
    assert _urls(tweet.media) == [
        ("video", f"{AMP}/vid/avc1/1280x608/Hi7pLm.mp4?tag=16"),
        ("poster", POSTER),
        ("avatar", "https://pbs.twimg.com/profile_images/1700000000000000000/AbCdEf.png"),
    ]


def test_all_video_variants_lists_every_mp4() -> None:
    assert all_video_variants(VIDEO_TWEET) == [v["url"] for v in VIDEO_VARIANTS if "bitrate" in v]
    assert all_video_variants(GIF_TWEET) == ["https://video.twimg.com/tweet_video/GNq1aXoWcAA7Zz9.mp4"]
    assert all_video_variants(TEXT_ONLY_2026) == []


def test_video_only_in_2026_video_object() -> None:
    body = copy.deepcopy(VIDEO_TWEET)
    del body["mediaDetails"]
    tweet = parse_tweet(body)
    # no bitrates there: W×H decides, HEVC still skipped
    assert _urls(tweet.media)[:2] == [
        ("video", f"{AMP}/vid/avc1/1280x608/Hi7pLm.mp4?tag=16"),
        ("poster", POSTER),
    ]
    assert len(all_video_variants(body)) == 5


def test_parse_gif_tweet() -> None:
    tweet = parse_tweet(GIF_TWEET)
    assert _urls(tweet.media) == [
        ("gif", "https://video.twimg.com/tweet_video/GNq1aXoWcAA7Zz9.mp4"),
        ("poster", "https://pbs.twimg.com/tweet_video_thumb/GNq1aXoWcAA7Zz9.jpg"),
        ("avatar", "https://pbs.twimg.com/profile_images/1600000000000000000/Zz9.jpg"),
    ]


def test_video_without_mp4_falls_back_to_hls() -> None:
    body = copy.deepcopy(VIDEO_TWEET)
    body["mediaDetails"][0]["video_info"]["variants"] = VIDEO_VARIANTS[:1]
    assert _urls(parse_tweet(body).media)[0] == ("hls", f"{AMP}/pl/MC4uaCsa2h7OlCkT.m3u8?tag=16")


def test_best_mp4_rules() -> None:
    def v(bitrate: int, url: str, ctype: str = "video/mp4") -> tuple[str, str, int]:
        return (ctype, url, bitrate)

    hevc = v(9000000, "https://v/vid/hevc/1920x1080/a.mp4")
    assert best_mp4([hevc]) == hevc[1]  # HEVC when it is the only mp4
    assert best_mp4([hevc, v(1, "https://v/vid/avc1/320x180/b.mp4")]) == "https://v/vid/avc1/320x180/b.mp4"
    assert best_mp4([v(0, "https://v/pl/x.m3u8", "application/x-mpegurl")]) is None
    assert best_mp4([]) is None
    assert best_mp4([v(5, "https://v/a.mp4"), v(5, "https://v/vid/2x2/b.mp4")]) == "https://v/vid/2x2/b.mp4"


def test_unavailable_media_is_skipped_in_both_lists() -> None:
    body = copy.deepcopy(PHOTO_TWEET)
    body["mediaDetails"][0]["ext_media_availability"] = {"status": "Unavailable"}
    assert [m.kind for m in parse_tweet(body).media] == ["avatar"]


def test_photos_list_alone_and_mixed_media_order() -> None:
    body = copy.deepcopy(PHOTO_TWEET)
    del body["mediaDetails"]
    body["photos"].append({"url": "https://pbs.twimg.com/media/SecondKey.png"})
    assert _urls(parse_tweet(body).media)[:2] == [
        ("photo", "https://pbs.twimg.com/media/FsZNOgcWAAEQtrd?format=jpg&name=orig"),
        ("photo", "https://pbs.twimg.com/media/SecondKey?format=png&name=orig"),
    ]
    mixed = copy.deepcopy(VIDEO_TWEET)
    mixed["mediaDetails"].append(copy.deepcopy(PHOTO_TWEET["mediaDetails"][0]))
    assert [m.kind for m in parse_tweet(mixed).media] == ["video", "photo", "poster", "avatar"]


def test_reply_parent_from_parent_object_and_missing_user() -> None:
    body = {"__typename": "Tweet", "id_str": "5", "text": "hi", "parent": {"id_str": "4"}}
    tweet = parse_tweet(body)
    assert tweet.parent_id == "4"
    assert tweet.author_handle is None and tweet.media == []
    assert tweet.url == "https://twitter.com/i/status/5"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://pbs.twimg.com/media/FsZNOgcWAAEQtrd.jpg", "https://pbs.twimg.com/media/FsZNOgcWAAEQtrd?format=jpg&name=orig"),
        ("https://pbs.twimg.com/media/FsZNOgcWAAEQtrd.png:large", "https://pbs.twimg.com/media/FsZNOgcWAAEQtrd?format=png&name=orig"),
        ("https://pbs.twimg.com/media/FsZNOgcWAAEQtrd?format=webp&name=small", "https://pbs.twimg.com/media/FsZNOgcWAAEQtrd?format=webp&name=orig"),
        ("http://pbs.twimg.com/media/FsZNOgcWAAEQtrd.jpg", "https://pbs.twimg.com/media/FsZNOgcWAAEQtrd?format=jpg&name=orig"),
        ("https://example.com/a.jpg", "https://example.com/a.jpg"),
    ],
)
def test_photo_orig_url(url: str, expected: str) -> None:
    assert photo_orig_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://pbs.twimg.com/profile_images/1/abc_normal.jpg", "https://pbs.twimg.com/profile_images/1/abc.jpg"),
        ("https://pbs.twimg.com/profile_images/1/abc_bigger.png", "https://pbs.twimg.com/profile_images/1/abc.png"),
        ("https://pbs.twimg.com/profile_images/1/abc_200x200.jpg", "https://pbs.twimg.com/profile_images/1/abc.jpg"),
        ("https://pbs.twimg.com/profile_images/1/abc_400x400.jpeg", "https://pbs.twimg.com/profile_images/1/abc.jpeg"),
        ("https://pbs.twimg.com/profile_images/1/abc_normal", "https://pbs.twimg.com/profile_images/1/abc"),
        ("https://pbs.twimg.com/profile_images/1/my_normal_pic_normal.jpg", "https://pbs.twimg.com/profile_images/1/my_normal_pic.jpg"),
        (
            "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png",
            "https://abs.twimg.com/sticky/default_profile_images/default_profile.png",
        ),
        ("https://pbs.twimg.com/profile_images/1/abc.jpg", "https://pbs.twimg.com/profile_images/1/abc.jpg"),
    ],
)
def test_avatar_orig_url(url: str, expected: str) -> None:
    assert avatar_orig_url(url) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-03-29T14:34:41.000Z", "2023-03-29T14:34:41.000Z"),
        ("2023-03-29T14:34:41Z", "2023-03-29T14:34:41.000Z"),
        ("2023-03-29T16:34:41.5+02:00", "2023-03-29T14:34:41.500Z"),
        ("2023-03-29T14:34:41.123456789-0130", "2023-03-29T16:04:41.123Z"),
        ("Wed Mar 29 14:34:41 +0000 2023", "2023-03-29T14:34:41.000Z"),
        ("2023-13-01T00:00:00Z", None),
        ("yesterday", None),
        (None, None),
        (1680100481, None),
    ],
)
def test_normalize_created_at(value: object, expected: str | None) -> None:
    assert normalize_created_at(value) == expected


# ------------------------------------------------------------------ decide_status

TOMBSTONE_DELETED = {  # syndication-tombstone.json
    "__typename": "TweetTombstone",
    "tombstone": {
        "text": {
            "text": "This Post was deleted by the Post author. Learn more",
            "entities": [
                {
                    "from_index": 42,
                    "to_index": 52,
                    "ref": {
                        "__typename": "TimelineUrl",
                        "url": "https://help.twitter.com/rules-and-policies/notices-on-twitter",
                        "url_type": "ExternalUrl",
                    },
                }
            ],
            "rtl": False,
        }
    },
}


def tombstone(text: str | None) -> dict:
    if text is None:
        return {"__typename": "TweetTombstone", "tombstone": {}}
    return {"__typename": "TweetTombstone", "tombstone": {"text": {"text": text, "entities": [], "rtl": False}}}


# The real oEmbed wire body (oembed-tweet.json): `\/` and `\u003C` escapes as X sends them.
OEMBED_WIRE = (
    '{"url":"https:\\/\\/twitter.com\\/pepephone\\/status\\/436461658601713664","author_name":"Pepephone",'
    '"author_url":"https:\\/\\/twitter.com\\/pepephone","html":"\\u003Cblockquote class=\\"twitter-tweet\\"\\u003E'
    '\\u003Cp lang=\\"es\\" dir=\\"ltr\\"\\u003ERT \\u003Ca href=\\"https:\\/\\/twitter.com\\/PabloHerreros?ref_src=twsrc%5Etfw\\"'
    '\\u003E@PabloHerreros\\u003C\\/a\\u003E Pepephone rompe la baraja - \\u003Ca href=\\"http:\\/\\/t.co\\/mFn7mcB1vy\\"\\u003E'
    'http:\\/\\/t.co\\/mFn7mcB1vy\\u003C\\/a\\u003E\\u003C\\/p\\u003E&mdash; Pepephone (@pepephone) \\u003Ca href=\\"https:'
    '\\/\\/twitter.com\\/pepephone\\/status\\/436461658601713664?ref_src=twsrc%5Etfw\\"\\u003EFebruary 20, 2014\\u003C\\/a'
    '\\u003E\\u003C\\/blockquote\\u003E\\n\\u003Cscript async src=\\"https:\\/\\/platform.twitter.com\\/widgets.js\\" '
    'charset=\\"utf-8\\"\\u003E\\u003C\\/script\\u003E\\n\\n","width":550,"height":null,"type":"rich",'
    '"cache_age":"3153600000","provider_name":"Twitter","provider_url":"https:\\/\\/twitter.com","version":"1.0"}'
)
OEMBED = json.loads(OEMBED_WIRE)
OEMBED_403 = {
    "error": "Sorry, you are not authorized to see this status.",
    "request": "/oembed?url=https%3A%2F%2Ftwitter.com%2Fprivate%2Fstatus%2F20",
}

S_TWEET = RouteResult(200, PHOTO_TWEET)
S_EMPTY = RouteResult(200, {})
S_404 = RouteResult(404, None)
S_FAIL = RouteResult(None, None, "ConnectTimeout after 3 tries")
O_200 = RouteResult(200, OEMBED)
O_403 = RouteResult(403, OEMBED_403)
O_404 = RouteResult(404, None)
O_EMPTY = RouteResult(200, {})
O_FAIL = RouteResult(None, None, "ReadTimeout after 3 tries")

SUSPENDED_TEXT = "This Post is from a suspended account. Learn more"
AGE_TEXT = "Age-restricted adult content. This content might not be appropriate for all."


@pytest.mark.parametrize(
    ("synd", "oembed", "status", "reason"),
    [
        # --- the table, row by row
        (S_TWEET, O_FAIL, "available", None),
        (S_TWEET, O_404, "available", None),
        (S_FAIL, O_200, "available", "from oEmbed (syndication: ConnectTimeout after 3 tries)"),
        (S_404, O_403, "protected", "oEmbed 403: Sorry, you are not authorized to see this status."),
        (S_FAIL, O_403, "protected", "oEmbed 403: Sorry, you are not authorized to see this status."),
        (S_EMPTY, O_403, "protected", "oEmbed 403: Sorry, you are not authorized to see this status."),
        (RouteResult(200, tombstone(SUSPENDED_TEXT)), O_404, "suspended", SUSPENDED_TEXT),
        (RouteResult(200, tombstone(SUSPENDED_TEXT)), O_403, "suspended", SUSPENDED_TEXT),
        (S_404, O_404, "deleted", "syndication 404; oEmbed 404"),
        (RouteResult(200, TOMBSTONE_DELETED), O_404, "deleted", "This Post was deleted by the Post author. Learn more"),
        (RouteResult(200, TOMBSTONE_DELETED), O_FAIL, "deleted", "This Post was deleted by the Post author. Learn more"),
        (RouteResult(200, tombstone(None)), O_404, "unavailable", "TweetTombstone without text"),
        (RouteResult(200, {"__typename": "TweetTombstone"}), O_FAIL, "unavailable", "TweetTombstone without text"),
        (RouteResult(200, tombstone(AGE_TEXT)), O_404, "unavailable", AGE_TEXT),
        (RouteResult(200, tombstone("This Post has been withheld in Germany.")), O_404, "unavailable",
         "This Post has been withheld in Germany."),
        (S_EMPTY, O_EMPTY, "unavailable", "syndication 200 {}; oEmbed 200 {}"),
        (S_FAIL, O_FAIL, "failed", "syndication: ConnectTimeout after 3 tries; oEmbed: ReadTimeout after 3 tries"),
        # --- protected / suspended variants
        (RouteResult(200, tombstone("This Post has been made private by the account owner.")), O_404, "protected",
         "This Post has been made private by the account owner."),
        (RouteResult(200, tombstone("You’re unable to view this Post because this account owner limits who can view their Posts.")),
         O_FAIL, "protected",
         "You’re unable to view this Post because this account owner limits who can view their Posts."),
        (RouteResult(200, tombstone(None)), O_403, "protected", "TweetTombstone without text; oEmbed 403"),
        (RouteResult(200, {"__typename": "TweetUnavailable"}), O_403, "protected",
         "unexpected __typename 'TweetUnavailable' from syndication; oEmbed 403"),
        (RouteResult(200, tombstone(AGE_TEXT)), O_403, "unavailable", AGE_TEXT),  # its own wording wins
        (RouteResult(200, {k: v for k, v in PHOTO_TWEET.items() if k != "user"}), O_200, "suspended",
         "syndication Tweet without user (author suspended)"),
        (RouteResult(200, {k: v for k, v in PHOTO_TWEET.items() if k != "user"}), O_403, "suspended",
         "syndication Tweet without user (author suspended)"),
        # --- a tombstone is not overridden by oEmbed 200 (oEmbed serves age-restricted posts)
        (RouteResult(200, tombstone(AGE_TEXT)), O_200, "unavailable", AGE_TEXT),
        # --- mixed and drift cases
        (S_EMPTY, O_200, "available", TOKEN_SUSPECT),
        (S_404, O_200, "available", "from oEmbed (syndication 404)"),
        (RouteResult(200, None), O_200, "available", "from oEmbed (syndication 200 (not JSON))"),
        (S_FAIL, O_404, "failed", "syndication: ConnectTimeout after 3 tries; oEmbed 404"),
        (S_404, O_FAIL, "failed", "syndication 404; oEmbed: ReadTimeout after 3 tries"),
        (S_EMPTY, O_FAIL, "failed", "syndication 200 {}; oEmbed: ReadTimeout after 3 tries"),
        (RouteResult(429, None, "Rate limit exceeded"), RouteResult(503, None), "failed",
         "syndication 429: Rate limit exceeded; oEmbed 503"),
        (S_EMPTY, O_404, "unavailable", "syndication 200 {}; oEmbed 404"),
        (S_404, O_EMPTY, "unavailable", "syndication 404; oEmbed 200 {}"),
        (RouteResult(400, {"error": "Bad request."}), O_404, "unavailable", "syndication 400: Bad request.; oEmbed 404"),
        (RouteResult(200, {"__typename": "TweetUnavailable", "reason": "Suspended"}), O_404, "unavailable",
         "unexpected __typename 'TweetUnavailable' from syndication"),
        (RouteResult(200, {"__typename": "TweetUnavailable"}), O_200, "unavailable",
         "unexpected __typename 'TweetUnavailable' from syndication"),
        (RouteResult(200, {"__typename": "TweetWithVisibilityResults", "tweet": PHOTO_TWEET}), O_FAIL, "available", None),
        (RouteResult(200, {"unexpected": True}), O_404, "unavailable", "syndication 200; oEmbed 404"),
    ],
)
def test_decide_status(synd: RouteResult, oembed: RouteResult, status: str, reason: str | None) -> None:
    assert decide_status(synd, oembed) == (status, reason)


def test_token_suspect_flag() -> None:
    assert token_suspect(S_EMPTY, O_200)
    assert not token_suspect(S_TWEET, O_200)
    assert not token_suspect(S_EMPTY, O_404)
    assert not token_suspect(S_FAIL, O_200)


def test_route_result_defaults() -> None:
    assert RouteResult(None) == RouteResult(status=None, data=None, error=None)


# ------------------------------------------------------------------ oEmbed

def test_parse_oembed_real_shape() -> None:
    assert parse_oembed(OEMBED) == {
        "author_name": "Pepephone",
        "author_handle": "pepephone",
        "text": "RT @PabloHerreros Pepephone rompe la baraja - http://t.co/mFn7mcB1vy",
        "date": "February 20, 2014",
        "url": "https://twitter.com/pepephone/status/436461658601713664",
    }


def test_parse_oembed_line_breaks_and_missing_html() -> None:
    body = {
        "author_name": "A &amp; B",
        "author_url": "https://twitter.com/ab/",
        "html": '<blockquote class="twitter-tweet"><p lang="en" dir="ltr">one<br>two &amp; <b>three</b><br/>'
        '<a href="https://t.co/x">pic.twitter.com/x</a></p>&mdash; A (@ab) '
        '<a href="https://twitter.com/ab/status/1">May 1, 2024</a></blockquote>',
    }
    parsed = parse_oembed(body)
    assert parsed["text"] == "one\ntwo & three\npic.twitter.com/x"
    assert parsed["author_handle"] == "ab" and parsed["date"] == "May 1, 2024"
    assert parse_oembed({"author_name": "X"}) == {
        "author_name": "X", "author_handle": None, "text": None, "date": None, "url": None
    }


# ------------------------------------------------------------------ HLS

MASTER = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:NAME="Audio",TYPE=AUDIO,GROUP-ID="audio-32000",AUTOSELECT=YES,URI="/amplify_video/1/pl/mp4a/32000/a32.m3u8"
#EXT-X-MEDIA:NAME="Audio",TYPE=AUDIO,GROUP-ID="audio-128000",AUTOSELECT=YES,URI="/amplify_video/1/pl/mp4a/128000/a128.m3u8"
#EXT-X-STREAM-INF:AVERAGE-BANDWIDTH=300000,BANDWIDTH=350000,RESOLUTION=480x270,CODECS="mp4a.40.2,avc1.4D401E",AUDIO="audio-32000"
/amplify_video/1/pl/avc1/480x270/v270.m3u8
#EXT-X-STREAM-INF:AVERAGE-BANDWIDTH=2000000,BANDWIDTH=2600000,RESOLUTION=1280x720,CODECS="mp4a.40.2,avc1.640020",AUDIO="audio-128000"
/amplify_video/1/pl/avc1/1280x720/v720.m3u8
#EXT-X-STREAM-INF:AVERAGE-BANDWIDTH=900000,BANDWIDTH=1000000,RESOLUTION=640x360,CODECS="mp4a.40.2,avc1.4D401F",AUDIO="audio-32000"
/amplify_video/1/pl/avc1/640x360/v360.m3u8
"""

MEDIA = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-TARGETDURATION:3
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI="/amplify_video/1/vid/avc1/0/0/1280x720/init.mp4"
#EXTINF:3.000,
/amplify_video/1/vid/avc1/0/3000/1280x720/seg1.m4s
#EXTINF:3.000,
/amplify_video/1/vid/avc1/3000/6000/1280x720/seg2.m4s
#EXTINF:0.516,
seg3.m4s
#EXT-X-ENDLIST
"""


def test_hls_master_picks_highest_bandwidth_and_its_audio() -> None:
    base = "https://video.twimg.com/amplify_video/1/pl/master.m3u8?tag=16"
    assert hls_media_urls(MASTER, base) == [
        "https://video.twimg.com/amplify_video/1/pl/avc1/1280x720/v720.m3u8",
        "https://video.twimg.com/amplify_video/1/pl/mp4a/128000/a128.m3u8",
    ]


def test_hls_master_without_audio_groups() -> None:
    text = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=100\nlow.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=900\r\nhigh.m3u8\r\n"
    assert hls_media_urls(text, "https://video.twimg.com/x/pl/m.m3u8") == ["https://video.twimg.com/x/pl/high.m3u8"]


def test_hls_media_playlist_segments() -> None:
    base = "https://video.twimg.com/amplify_video/1/pl/avc1/1280x720/v720.m3u8"
    assert hls_media_urls(MEDIA, base) == [
        "https://video.twimg.com/amplify_video/1/vid/avc1/0/0/1280x720/init.mp4",
        "https://video.twimg.com/amplify_video/1/vid/avc1/0/3000/1280x720/seg1.m4s",
        "https://video.twimg.com/amplify_video/1/vid/avc1/3000/6000/1280x720/seg2.m4s",
        "https://video.twimg.com/amplify_video/1/pl/avc1/1280x720/seg3.m4s",
    ]
    assert hls_media_urls("#EXTM3U\n", base) == []
