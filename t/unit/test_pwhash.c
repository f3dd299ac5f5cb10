/*
 * test_pwhash.c - scrypt password hashes: round trips, the PHC string and
 * its parameters, hostile strings, and the KDF against RFC 7914.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <string.h>

#include "pwhash.h"
#include "secret.h"

static void hex(const unsigned char *p, size_t n, char *out)
{
	secret_hex(p, n, out);
}

/* RFC 7914 section 12, vector 1: P = "", S = "", N = 16, r = 1, p = 1. */
Test(pwhash, kdf_matches_rfc7914_vector_1)
{
	unsigned char dk[64];
	char h[129];

	cr_assert(
	    eq(int, pwhash_scrypt("", 0, "", 0, 16, 1, 1, dk, sizeof(dk)), 0));
	hex(dk, sizeof(dk), h);
	cr_assert(eq(str, h,
	    "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
	    "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d1890"
	    "6"));
}

/* RFC 7914 section 12, vector 3: N = 16384, r = 8, p = 1 (ln = 14). */
static const char rfc_v3[] =
    "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
    "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887";

Test(pwhash, kdf_matches_rfc7914_vector_3)
{
	unsigned char dk[64];
	char h[129];

	cr_assert(eq(int,
	    pwhash_scrypt("pleaseletmein", 13, "SodiumChloride", 14, 16384, 8,
	        1, dk, sizeof(dk)),
	    0));
	hex(dk, sizeof(dk), h);
	cr_assert(eq(str, h, (char *)rfc_v3));
}

Test(pwhash, a_phc_string_built_from_the_rfc_vector_verifies)
{
	unsigned char dk[64];
	char salt[32], hash[96], phc[160];
	size_t i;

	for (i = 0; i < sizeof(dk); i++) {
		unsigned v;

		cr_assert(eq(int, sscanf(rfc_v3 + 2 * i, "%2x", &v), 1));
		dk[i] = (unsigned char)v;
	}
	cr_assert(gt(long,
	    secret_b64raw_encode("SodiumChloride", 14, salt, sizeof(salt)), 0));
	cr_assert(
	    gt(long, secret_b64raw_encode(dk, 64, hash, sizeof(hash)), 0));
	cr_assert(gt(int,
	    snprintf(phc, sizeof(phc), "$scrypt$ln=14,r=8,p=1$%s$%s", salt,
	        hash),
	    0));
	cr_assert(eq(int, pwhash_verify("pleaseletmein", 13, phc), 1), "%s",
	    phc);
	cr_assert(eq(int, pwhash_verify("pleaseletmeiN", 13, phc), 0));
	cr_assert(pwhash_needs_rehash(phc, 14), "64-byte hash, 14-byte salt");
}

Test(pwhash, kdf_refuses_impossible_parameters)
{
	unsigned char dk[32];

	cr_assert(eq(int, pwhash_scrypt("p", 1, "s", 1, 15, 1, 1, dk, 32), -1),
	    "N not a power of two");
	cr_assert(eq(int, pwhash_scrypt("p", 1, "s", 1, 1, 1, 1, dk, 32), -1));
	cr_assert(eq(int, pwhash_scrypt("p", 1, "s", 1, 16, 0, 1, dk, 32), -1));
	cr_assert(eq(int, pwhash_scrypt("p", 1, "s", 1, 16, 1, 0, dk, 32), -1));
	cr_assert(eq(int,
	              pwhash_scrypt("p", 1, "s", 1, (uint64_t)1 << 22, 8, 1, dk,
	                  32),
	              -1),
	    "4 GiB of memory");
	cr_assert(eq(int,
	              pwhash_scrypt("p", 1, "s", 1, 16, UINT64_MAX, UINT64_MAX,
	                  dk, 32),
	              -1),
	    "no overflow in the memory bound");
}

Test(pwhash, hash_then_verify)
{
	char phc[PWHASH_MAX_LEN];
	const char *pw = "correct horse battery staple";

	cr_assert(
	    eq(int, pwhash_hash(pw, strlen(pw), 10, phc, sizeof(phc)), 0));
	cr_assert(eq(int, pwhash_verify(pw, strlen(pw), phc), 1));
	cr_assert(eq(int,
	    pwhash_verify("correct horse battery stapl", strlen(pw) - 1, phc),
	    0));
	cr_assert(eq(int,
	    pwhash_verify("Correct horse battery staple", strlen(pw), phc), 0));
	cr_assert(eq(int, pwhash_verify("", 0, phc), 0));
}

Test(pwhash, passwords_are_bytes_with_an_explicit_length)
{
	char phc[PWHASH_MAX_LEN];
	static const char pw[] = "a\0b";

	cr_assert(eq(int, pwhash_hash(pw, 3, 10, phc, sizeof(phc)), 0));
	cr_assert(eq(int, pwhash_verify(pw, 3, phc), 1));
	cr_assert(eq(int, pwhash_verify("a\0c", 3, phc), 0));
	cr_assert(eq(int, pwhash_verify(pw, 1, phc), 0));
}

Test(pwhash, string_has_the_phc_form)
{
	char phc[PWHASH_MAX_LEN], salt[64], hash[64];
	unsigned char bytes[64];
	int ln, r, p, end = 0;
	size_t i, equals;

	cr_assert(eq(int, pwhash_hash("pw", 2, 11, phc, sizeof(phc)), 0));
	cr_assert(eq(int,
	              sscanf(phc,
	                  "$scrypt$ln=%d,r=%d,p=%d$%63[A-Za-z0-9+/"
	                  "]$%63[A-Za-z0-9+/]%n",
	                  &ln, &r, &p, salt, hash, &end),
	              5),
	    "%s", phc);
	cr_assert(eq(sz, (size_t)end, strlen(phc)), "%s", phc);
	cr_assert(eq(int, ln, 11));
	cr_assert(eq(int, r, 8));
	cr_assert(eq(int, p, 1));
	cr_assert(eq(long,
	    secret_b64raw_decode(salt, strlen(salt), bytes, sizeof(bytes)),
	    16));
	cr_assert(eq(long,
	    secret_b64raw_decode(hash, strlen(hash), bytes, sizeof(bytes)),
	    32));
	for (i = 0, equals = 0; phc[i] != '\0'; i++)
		equals += phc[i] == '=';
	cr_assert(eq(sz, equals, 3), "only ln=, r=, p= hold '=': no padding");
}

Test(pwhash, two_hashes_of_one_password_differ)
{
	char a[PWHASH_MAX_LEN], b[PWHASH_MAX_LEN];

	cr_assert(eq(int, pwhash_hash("pw", 2, 10, a, sizeof(a)), 0));
	cr_assert(eq(int, pwhash_hash("pw", 2, 10, b, sizeof(b)), 0));
	cr_assert(ne(str, a, b));
}

Test(pwhash, parameters_travel_in_the_string)
{
	char phc[PWHASH_MAX_LEN];

	cr_assert(eq(int, pwhash_hash("pw", 2, 10, phc, sizeof(phc)), 0));
	/* The config now says 14: the old hash still verifies with its own
	 * ln, and is due for a rehash. */
	cr_assert(eq(int, pwhash_verify("pw", 2, phc), 1));
	cr_assert(pwhash_needs_rehash(phc, 14));
	cr_assert(not(pwhash_needs_rehash(phc, 10)));
	cr_assert(pwhash_needs_rehash("garbage", 10));
}

Test(pwhash, other_r_and_p_verify_and_want_a_rehash)
{
	unsigned char salt[16] = "0123456789abcdef", dk[32];
	char s64[32], h64[64], phc[160];

	cr_assert(
	    eq(int, pwhash_scrypt("pw", 2, salt, 16, 1024, 4, 2, dk, 32), 0));
	cr_assert(
	    gt(long, secret_b64raw_encode(salt, 16, s64, sizeof(s64)), 0));
	cr_assert(gt(long, secret_b64raw_encode(dk, 32, h64, sizeof(h64)), 0));
	cr_assert(gt(int,
	    snprintf(phc, sizeof(phc), "$scrypt$ln=10,r=4,p=2$%s$%s", s64, h64),
	    0));
	cr_assert(eq(int, pwhash_verify("pw", 2, phc), 1), "%s", phc);
	cr_assert(pwhash_needs_rehash(phc, 10));
}

Test(pwhash, hash_refuses_bad_arguments)
{
	char phc[PWHASH_MAX_LEN], big[PWHASH_MAX_PASSWORD + 1];

	memset(big, 'x', sizeof(big));
	cr_assert(eq(int, pwhash_hash("pw", 2, 9, phc, sizeof(phc)), -1));
	cr_assert(eq(int, pwhash_hash("pw", 2, 21, phc, sizeof(phc)), -1));
	cr_assert(
	    eq(int, pwhash_hash(big, sizeof(big), 10, phc, sizeof(phc)), -1));
	cr_assert(eq(int, pwhash_hash("pw", 2, 10, phc, 40), -1));
	cr_assert(eq(str, phc, ""));
	cr_assert(eq(int,
	    pwhash_hash(big, PWHASH_MAX_PASSWORD, 10, phc, sizeof(phc)), 0));
	cr_assert(eq(int, pwhash_verify(big, PWHASH_MAX_PASSWORD, phc), 1));
	cr_assert(eq(int, pwhash_verify(big, sizeof(big), phc), 0),
	    "a longer password never matches");
}

Test(pwhash, malformed_strings_are_refused)
{
	static const char *bad[] = {
	    "",
	    "$",
	    "$scrypt$",
	    "$scrypt$ln=10,r=8,p=1",
	    "$scrypt$ln=10,r=8,p=1$",
	    "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA",
	    "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$",
	    "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
	    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g$",
	    "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA==$"
	    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
	    "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRz!Wx0c2FsdA$"
	    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
	    "$scrypt$ln=10,r=8$c2FsdHNhbHRzYWx0c2FsdA$"
	    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
	    "$scrypt$ln=010,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
	    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
	    "$scrypt$ln=,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
	    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
	    "$scrypt$ln=-10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
	    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
	    "$scrypt$r=8,ln=10,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
	    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
	    "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$"
	    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
	    /* salt too short (4 bytes), hash too short (8 bytes) */
	    "$scrypt$ln=10,r=8,p=1$c2FsdA$"
	    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
	    "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2g",
	    /* trailing junk */
	    "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
	    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g ",
	};
	size_t i;

	/* The well-formed string the bad ones are made from is a mismatch. */
	cr_assert(eq(int,
	    pwhash_verify("pw", 2,
	        "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
	        "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"),
	    0));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert(eq(int, pwhash_verify("pw", 2, bad[i]), -1),
		    "accepted \"%s\"", bad[i]);
		cr_assert(pwhash_needs_rehash(bad[i], 14));
	}
	cr_assert(eq(int, pwhash_verify("pw", 2, NULL), -1));
}

Test(pwhash, absurd_parameters_are_refused_before_any_work)
{
	static const char *bad[] = {
	    "$scrypt$ln=9,r=8,p=1$",
	    "$scrypt$ln=21,r=8,p=1$",
	    "$scrypt$ln=64,r=8,p=1$",
	    "$scrypt$ln=999,r=8,p=1$",
	    "$scrypt$ln=99999999999999999999,r=8,p=1$",
	    "$scrypt$ln=14,r=0,p=1$",
	    "$scrypt$ln=14,r=33,p=1$",
	    "$scrypt$ln=14,r=8,p=0$",
	    "$scrypt$ln=14,r=8,p=17$",
	    /* in range one by one, but more than ln=20, r=8, p=1 costs */
	    "$scrypt$ln=20,r=32,p=1$",
	    "$scrypt$ln=20,r=8,p=2$",
	    "$scrypt$ln=18,r=32,p=16$",
	};
	char phc[200];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert(gt(int,
		    snprintf(phc, sizeof(phc),
		        "%sc2FsdHNhbHRzYWx0c2FsdA$"
		        "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		        bad[i]),
		    0));
		cr_assert(eq(int, pwhash_verify("pw", 2, phc), -1),
		    "accepted \"%s\"", phc);
	}
}

Test(pwhash, dummy_runs_without_a_hash)
{
	pwhash_dummy("pw", 2, 10);
	pwhash_dummy("pw", 2, 5);
	pwhash_dummy("", 0, 10);
}
