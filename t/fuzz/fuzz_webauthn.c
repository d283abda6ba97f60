/*
 * libFuzzer driver: the WebAuthn parsers an attacker feeds (cbor.c,
 * webauthn.c): the input as a CBOR item, as an attestationObject, and
 * as authenticator data of a registration and of an assertion. Nothing
 * may crash, leak or read past the input; a key is made only from a
 * well-formed COSE key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cbor.h"
#include "config.h"
#include "webauthn.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static char rp[] = "localhost";
	struct wa_client cl;
	struct wa_auth_data a;
	struct cbor c;
	struct cbor_item it;
	unsigned char *ad;
	size_t adlen;
	const char *why;

	cfg.webauthn_rp_id = rp;
	memset(&cl, 0, sizeof(cl));
	cbor_init(&c, data, len);
	if (cbor_next(&c, &it) == 0)
		(void)cbor_skip(&c, &it);
	if (wa_attestation(data, len, &cl, &a, &ad, &adlen, &why) == 0) {
		if (a.key == NULL || ad < data || ad + adlen > data + len)
			abort();
		wa_auth_data_free(&a);
	}
	if (wa_auth_data(data, len, 1, &a, &why) == 0 &&
	    (a.key == NULL || a.cred_id < data ||
	        a.cred_id + a.cred_len > data + len))
		abort();
	wa_auth_data_free(&a);
	(void)wa_auth_data(data, len, 0, &a, &why);
	wa_auth_data_free(&a);
	return 0;
}
