/*
 * The FastCGI ceiling for script/bench: a libfcgi program that answers
 * every request with {} and does nothing else. spawn-fcgi -F N runs N of
 * them on one socket, like fcgi-auth's workers.
 */
#include <fcgiapp.h>

int
main(void)
{
	static const char resp[] =
	    "Status: 200 OK\r\n"
	    "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
	FCGX_Request r;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&r) >= 0) {
		FCGX_PutStr(resp, sizeof(resp) - 1, r.out);
		FCGX_Finish_r(&r);
	}
	return 0;
}
