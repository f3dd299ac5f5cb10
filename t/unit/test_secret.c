/*
 * test_secret.c - the crypto primitives: AES-256-GCM round trips and every
 * kind of tampering, base64 forms against RFC 4648, random tokens, SHA-256,
 * and loading the master key from the config or a file.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "secret.h"
#include "testutil.h"

/* base64 of bytes 0..31, the key the test configurations use */
#define TEST_KEY_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static void test_key(struct secret_key *k, unsigned char seed)
{
	size_t i;

	for (i = 0; i < SECRET_KEY_LEN; i++)
		k->k[i] = (unsigned char)(seed + i);
}

/* ------------------------------------------------------------ GCM */

struct sealed {
	unsigned char nonce[SECRET_NONCE_LEN];
	unsigned char ct[64 + SECRET_TAG_LEN];
	size_t ctlen;
};

static const char pt[] = "refresh-token-of-user-42";
static const char aad[] = "user_oauth_tokens:42:strava";

static void seal(const struct secret_key *k, struct sealed *s)
{
	cr_assert(eq(int,
	    secret_seal(k, pt, strlen(pt), aad, strlen(aad), s->nonce, s->ct),
	    0));
	s->ctlen = strlen(pt) + SECRET_TAG_LEN;
}

static int open_sealed(const struct secret_key *k, const struct sealed *s,
    const char *a, char *out)
{
	return secret_open(k, s->ct, s->ctlen, s->nonce, a, strlen(a),
	    (unsigned char *)out);
}

/* Where most GCM tests start (their .init): pt sealed under aad with the
 * key of seed 1. Each test runs in its own process, so it may change
 * them. */
static struct secret_key key1;
static struct sealed box;

static void seal_with_key1(void)
{
	test_key(&key1, 1);
	seal(&key1, &box);
}

/* Assert that box does not open with k and aad a; why says what was
 * changed. */
static void expect_refused(const struct secret_key *k, const char *a,
    const char *why)
{
	char out[64];

	cr_assert(eq(int, open_sealed(k, &box, a, out), -1),
	    "%s: opened anyway", why);
}

Test(secret, seal_then_open_gives_the_plaintext_back, .init = seal_with_key1)
{
	char out[64] = {0};

	cr_assert(ne(int, memcmp(box.ct, pt, strlen(pt)), 0),
	    "the ciphertext is not the plaintext");
	cr_assert(eq(int, open_sealed(&key1, &box, aad, out), 0));
	cr_assert(eq(str, out, (char *)pt));
}

Test(secret, empty_plaintext_and_no_aad_round_trip)
{
	struct secret_key k;
	unsigned char nonce[SECRET_NONCE_LEN], ct[SECRET_TAG_LEN], out[1];

	test_key(&k, 2);
	cr_assert(eq(int, secret_seal(&k, NULL, 0, NULL, 0, nonce, ct), 0));
	cr_assert(
	    eq(int, secret_open(&k, ct, sizeof(ct), nonce, NULL, 0, out), 0));
	ct[0] ^= 1;
	cr_assert(eq(int, secret_open(&k, ct, sizeof(ct), nonce, NULL, 0, out),
	              -1),
	    "a changed tag is refused even with nothing sealed");
}

Test(secret, changed_ciphertext_is_refused_and_out_is_wiped,
    .init = seal_with_key1)
{
	char out[64];
	size_t i;

	box.ct[3] ^= 0x40;
	memset(out, 'x', sizeof(out));
	cr_assert(eq(int, open_sealed(&key1, &box, aad, out), -1));
	for (i = 0; i < strlen(pt); i++)
		cr_assert(eq(int, out[i], 0), "byte %zu of out not wiped", i);
}

Test(secret, changed_tag_is_refused, .init = seal_with_key1)
{
	box.ct[box.ctlen - 1] ^= 1;
	expect_refused(&key1, aad, "last tag byte flipped");
}

Test(secret, changed_nonce_is_refused, .init = seal_with_key1)
{
	box.nonce[11] ^= 0x80;
	expect_refused(&key1, aad, "last nonce byte flipped");
}

Test(secret, other_aad_is_refused, .init = seal_with_key1)
{
	expect_refused(&key1, "user_oauth_tokens:43:strava",
	    "a value moved to another row");
	expect_refused(&key1, "", "empty aad");
}

Test(secret, wrong_key_is_refused, .init = seal_with_key1)
{
	struct secret_key other;

	test_key(&other, 2);
	expect_refused(&other, aad, "key of seed 2");
}

Test(secret, truncated_input_is_refused, .init = seal_with_key1)
{
	size_t lens[] = {SECRET_TAG_LEN - 1, box.ctlen - 1};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		cr_assert(eq(int,
		              secret_open(&key1, box.ct, lens[i], box.nonce,
		                  aad, strlen(aad), (unsigned char *)out),
		              -1),
		    "opened %zu of %zu bytes", lens[i], box.ctlen);
}

Test(secret, two_seals_use_different_nonces, .init = seal_with_key1)
{
	struct sealed other;

	seal(&key1, &other);
	cr_assert(ne(int, memcmp(box.nonce, other.nonce, SECRET_NONCE_LEN), 0));
	cr_assert(ne(int, memcmp(box.ct, other.ct, box.ctlen), 0));
}

/* ------------------------------------------------------------ base64 */

/* The three forms, in the order of b64_vector.text. */
static const struct b64_form {
	const char *name;
	ssize_t (*encode)(const void *p, size_t n, char *out, size_t outsize);
	ssize_t (*decode)(const char *s, size_t len, unsigned char *out,
	    size_t outsize);
} forms[] = {
    {"b64", secret_b64_encode, secret_b64_decode},
    {"b64raw", secret_b64raw_encode, secret_b64raw_decode},
    {"b64url", secret_b64url_encode, secret_b64url_decode},
};

struct b64_vector {
	const char *in;
	const char *text[3]; /* standard, raw, url: as forms[] */
};

/* RFC 4648 section 10, plus bytes that differ between the alphabets. */
static const struct b64_vector vectors[] = {
    {"", {"", "", ""}},
    {"f", {"Zg==", "Zg", "Zg"}},
    {"fo", {"Zm8=", "Zm8", "Zm8"}},
    {"foo", {"Zm9v", "Zm9v", "Zm9v"}},
    {"foob", {"Zm9vYg==", "Zm9vYg", "Zm9vYg"}},
    {"fooba", {"Zm9vYmE=", "Zm9vYmE", "Zm9vYmE"}},
    {"foobar", {"Zm9vYmFy", "Zm9vYmFy", "Zm9vYmFy"}},
    {"\xfb\xff\xbf", {"+/+/", "+/+/", "-_-_"}},
    {"\xfb\xff", {"+/8=", "+/8", "-_8"}},
};

Test(secret, base64_encodes_the_rfc4648_vectors)
{
	char out[32];
	size_t i, f;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct b64_vector *v = &vectors[i];
		size_t n = strlen(v->in);

		for (f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
			const char *want = v->text[f];

			cr_assert(eq(long,
			              forms[f].encode(v->in, n, out,
			                  sizeof(out)),
			              (long)strlen(want)),
			    "%s_encode of vector %zu", forms[f].name, i);
			cr_assert(eq(str, out, (char *)want),
			    "%s_encode of vector %zu", forms[f].name, i);
		}
		cr_assert(eq(sz, SECRET_B64_LEN(n), strlen(v->text[0])));
		cr_assert(eq(sz, SECRET_B64RAW_LEN(n), strlen(v->text[1])));
	}
}

Test(secret, base64_decodes_the_rfc4648_vectors)
{
	unsigned char out[32];
	size_t i, f;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct b64_vector *v = &vectors[i];
		size_t n = strlen(v->in);

		for (f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
			const char *text = v->text[f];

			cr_assert(eq(long,
			              forms[f].decode(text, strlen(text), out,
			                  sizeof(out)),
			              (long)n),
			    "%s_decode \"%s\"", forms[f].name, text);
			cr_assert(eq(int, memcmp(out, v->in, n), 0),
			    "%s_decode \"%s\"", forms[f].name, text);
		}
	}
}

Test(secret, base64_decoding_is_strict)
{
	static const char *bad_std[] = {
	    "Zg",           /* padding missing */
	    "Zg=",          /* short padding */
	    "Zg===",        /* too much */
	    "Z===",         /* one character cannot make a byte */
	    "Zh==",         /* non-zero unused bits */
	    "Zm9=",         /* the same with one pad */
	    "Zm=v",         /* padding inside */
	    "Zm9v====",     /* a whole quantum of padding */
	    "Zm9v\n",       /* whitespace */
	    " Zm9v",        /* whitespace */
	    "Zm9-",         /* URL alphabet */
	    "Zm9v\x80YmFy", /* not ASCII */
	};
	static const char *bad_url[] = {
	    "Zg==", /* padding where none is allowed */
	    "Z",    /* impossible length */
	    "+/+/", /* standard alphabet */
	    "Zh",   /* non-zero unused bits */
	    "Zm9v.",
	};
	unsigned char out[32];
	size_t i;

	for (i = 0; i < sizeof(bad_std) / sizeof(bad_std[0]); i++)
		cr_assert(eq(long,
		              secret_b64_decode(bad_std[i], strlen(bad_std[i]),
		                  out, sizeof(out)),
		              -1),
		    "accepted \"%s\"", bad_std[i]);
	for (i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++) {
		cr_assert(eq(long,
		              secret_b64url_decode(bad_url[i],
		                  strlen(bad_url[i]), out, sizeof(out)),
		              -1),
		    "accepted \"%s\"", bad_url[i]);
		if (strchr(bad_url[i], '+') == NULL)
			cr_assert(eq(long,
			              secret_b64raw_decode(bad_url[i],
			                  strlen(bad_url[i]), out, sizeof(out)),
			              -1),
			    "raw accepted \"%s\"", bad_url[i]);
	}
	cr_assert(
	    eq(long, secret_b64raw_decode("-_8", 3, out, sizeof(out)), -1));
}

Test(secret, base64_respects_the_output_size)
{
	char text[9];
	unsigned char bytes[6];

	cr_assert(eq(long, secret_b64_encode("foobar", 6, text, 8), -1),
	    "no room for the NUL");
	cr_assert(eq(long, secret_b64_encode("foobar", 6, text, 9), 8));
	cr_assert(eq(long, secret_b64_decode("Zm9vYmFy", 8, bytes, 5), -1));
	cr_assert(eq(long, secret_b64_decode("Zm9vYmFy", 8, bytes, 6), 6));
	cr_assert(eq(long, secret_b64url_decode("Zm9vYmE", 7, bytes, 4), -1));
}

Test(secret, base64_round_trips_every_length_and_byte)
{
	unsigned char in[200], back[200];
	char text[SECRET_B64_LEN(200) + 1];
	size_t n, i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 37 + 11);
	for (n = 0; n <= sizeof(in); n++) {
		ssize_t t = secret_b64_encode(in, n, text, sizeof(text));

		cr_assert(eq(long,
		    secret_b64_decode(text, (size_t)t, back, sizeof(back)),
		    (long)n));
		cr_assert(eq(int, memcmp(in, back, n), 0));
		t = secret_b64url_encode(in, n, text, sizeof(text));
		cr_assert(eq(long,
		    secret_b64url_decode(text, (size_t)t, back, sizeof(back)),
		    (long)n));
		cr_assert(eq(int, memcmp(in, back, n), 0));
	}
}

/* ------------------------------------------------------------ tokens */

static bool is_base62(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'Z') ||
		        (*s >= 'a' && *s <= 'z')))
			return false;
	return true;
}

Test(secret, base62_tokens_have_the_length_and_alphabet)
{
	char a[33], b[33], big[4097];
	bool seen[128] = {false};
	size_t i, distinct = 0;

	cr_assert(eq(int, secret_random_base62(a, 32), 0));
	cr_assert(eq(int, secret_random_base62(b, 32), 0));
	cr_assert(eq(sz, strlen(a), 32));
	cr_assert(is_base62(a), "%s", a);
	cr_assert(ne(str, a, b), "two tokens are the same: %s", a);
	cr_assert(eq(int, secret_random_base62(big, 4096), 0));
	cr_assert(eq(sz, strlen(big), 4096));
	cr_assert(is_base62(big));
	for (i = 0; i < 4096; i++)
		seen[(unsigned char)big[i]] = true;
	for (i = 0; i < 128; i++)
		distinct += seen[i];
	cr_assert(eq(sz, distinct, 62), "4096 characters use all 62");
	cr_assert(eq(int, secret_random_base62(a, 0), 0));
	cr_assert(eq(str, a, ""));
}

Test(secret, random_bytes_differ)
{
	unsigned char a[32], b[32];

	cr_assert(eq(int, secret_random(a, sizeof(a)), 0));
	cr_assert(eq(int, secret_random(b, sizeof(b)), 0));
	cr_assert(ne(int, memcmp(a, b, sizeof(a)), 0));
}

Test(secret, sha256_and_hex_match_the_known_vector)
{
	unsigned char md[SECRET_SHA256_LEN];
	char hex[2 * SECRET_SHA256_LEN + 1];

	cr_assert(eq(int, secret_sha256("abc", 3, md), 0));
	secret_hex(md, sizeof(md), hex);
	cr_assert(eq(str, hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a"
	    "d"));
	cr_assert(eq(int, secret_sha256("", 0, md), 0));
	secret_hex(md, sizeof(md), hex);
	cr_assert(eq(str, hex,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"
	    "5"));
}

Test(secret, equal_and_wipe)
{
	unsigned char a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[8];

	memcpy(b, a, sizeof(a));
	cr_assert(secret_equal(a, b, sizeof(a)));
	b[7] ^= 1;
	cr_assert(not(secret_equal(a, b, sizeof(a))));
	cr_assert(secret_equal(a, b, 7));
	secret_wipe(a, sizeof(a));
	memset(b, 0, sizeof(b));
	cr_assert(eq(int, memcmp(a, b, sizeof(a)), 0));
	secret_wipe(NULL, 0);
}

/* ------------------------------------------------------------ master key */

static const unsigned char want_key[SECRET_KEY_LEN] = {0, 1, 2, 3, 4, 5, 6, 7,
    8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
    27, 28, 29, 30, 31};

/* Load with the given master_key and master_key_file; returns the result
 * and leaves the message in err. */
static int load(const char *key, const char *file, struct secret_key *k,
    char *err, size_t errlen)
{
	struct cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.master_key = (char *)key;
	cfg.master_key_file = (char *)file;
	return secret_key_load(&cfg, k, err, errlen);
}

/* Assert that loading with key and file gives want_key. */
static void expect_loads(const char *key, const char *file)
{
	struct secret_key k;
	char err[256] = "";

	cr_assert(eq(int, load(key, file, &k, err, sizeof(err)), 0),
	    "master_key \"%s\", file \"%s\": %s", key, file, err);
	cr_assert(eq(int, memcmp(k.k, want_key, SECRET_KEY_LEN), 0),
	    "master_key \"%s\", file \"%s\": another key", key, file);
}

/* Assert that loading with key and file fails and leaves the key zeroed;
 * the message is left in err. */
static void expect_refused_load(const char *key, const char *file, char *err,
    size_t errlen)
{
	struct secret_key k, zero;

	memset(&k, 0xaa, sizeof(k));
	memset(&zero, 0, sizeof(zero));
	cr_assert(eq(int, load(key, file, &k, err, errlen), -1),
	    "master_key \"%s\", file \"%s\": loaded", key, file);
	cr_assert(eq(int, memcmp(&k, &zero, sizeof(k)), 0),
	    "master_key \"%s\", file \"%s\": out is not zeroed on failure", key,
	    file);
}

static char *key_file(const char *content, mode_t mode)
{
	char *dir = tu_tmpdir();
	char *path = tu_write(dir, "master.key", content);

	cr_assert(eq(int, chmod(path, mode), 0));
	free(dir);
	return path;
}

Test(secret, key_loads_from_the_config_value)
{
	expect_loads(TEST_KEY_B64, "");
}

Test(secret, config_value_wins_over_the_file)
{
	expect_loads(TEST_KEY_B64, "/nonexistent/master.key");
}

Test(secret, key_loads_from_a_private_file)
{
	char *path = key_file("\n  " TEST_KEY_B64 "\n\n", 0600);

	expect_loads("", path);
	cr_assert(eq(int, chmod(path, 0400), 0));
	expect_loads("", path);
	(void)unlink(path);
	free(path);
}

Test(secret, readable_key_file_is_refused_naming_the_mode)
{
	char *path = key_file(TEST_KEY_B64 "\n", 0644);
	char err[256];

	expect_refused_load("", path, err, sizeof(err));
	TU_EXPECT_IN(err, "0644");
	TU_EXPECT_IN(err, path);
	TU_EXPECT_IN(err, "chmod 600");
	cr_expect(strstr(err, TEST_KEY_B64) == NULL, "key in: %s", err);
	cr_assert(eq(int, chmod(path, 0620), 0));
	expect_refused_load("", path, err, sizeof(err)); /* group-writable */
	TU_EXPECT_IN(err, "0620");
	(void)unlink(path);
	free(path);
}

Test(secret, missing_key_file_is_refused)
{
	char err[256];

	expect_refused_load("", "/nonexistent/master.key", err, sizeof(err));
	TU_EXPECT_IN(err, "/nonexistent/master.key");
	TU_EXPECT_IN(err, "openssl rand -base64 32");
}

Test(secret, key_file_that_is_not_a_file_is_refused)
{
	char *dir = tu_tmpdir();
	char err[256];

	cr_assert(eq(int, chmod(dir, 0700), 0));
	expect_refused_load("", dir, err, sizeof(err));
	TU_EXPECT_IN(err, "not a regular file");
	(void)rmdir(dir);
	free(dir);
}

Test(secret, bad_key_file_content_is_refused_without_echoing_it)
{
	static const char *bad[] = {
	    "not base64 at all!\n",
	    /* 31 bytes */
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n",
	    /* 33 bytes */
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\n",
	    /* unpadded */
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
	    /* two keys */
	    TEST_KEY_B64 "\n" TEST_KEY_B64 "\n",
	    "",
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *path = key_file(bad[i], 0600);

		expect_refused_load("", path, err, sizeof(err));
		TU_EXPECT_IN(err, "base64 of 32 bytes");
		TU_EXPECT_IN(err, "openssl rand -base64 32");
		cr_expect(strstr(err, "AAECAwQF") == NULL, "content in: %s",
		    err);
		cr_expect(strstr(err, "not base64 at all") == NULL,
		    "content in: %s", err);
		(void)unlink(path);
		free(path);
	}
}

Test(secret, bad_config_value_is_refused_without_echoing_it)
{
	char err[256];

	expect_refused_load("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "",
	    err, sizeof(err));
	TU_EXPECT_IN(err, "PACER_MASTER_KEY");
	TU_EXPECT_IN(err, "openssl rand -base64 32");
	cr_expect(strstr(err, "AAECAwQF") == NULL, "key in: %s", err);
}

Test(secret, no_key_at_all_says_how_to_make_one)
{
	char err[256];

	expect_refused_load("", "", err, sizeof(err));
	cr_assert(eq(str, err,
	    "no master key: set PACER_MASTER_KEY or master_key_file "
	    "(make one with: openssl rand -base64 32)"));
}
