/* The application's errors (errors.c), beside the runtime's (response.h). */
#ifndef FA_ERRORS_H
#define FA_ERRORS_H

#include "response.h"

extern const struct api_error err_invalid_credentials, err_invalid_token,
    err_invalid_grant, err_invalid_link_token, err_email_not_verified,
    err_username_taken, err_email_taken, err_weak_password, err_mfa_required,
    err_account_disabled;
#define ERR_INVALID_CREDENTIALS (&err_invalid_credentials) /* 401 */
#define ERR_INVALID_TOKEN       (&err_invalid_token)       /* 401 */
#define ERR_INVALID_GRANT       (&err_invalid_grant)       /* 401 */
#define ERR_INVALID_LINK_TOKEN  (&err_invalid_link_token) /* 400 invalid_token */
#define ERR_EMAIL_NOT_VERIFIED  (&err_email_not_verified) /* 403 */
#define ERR_USERNAME_TAKEN      (&err_username_taken)     /* 409 */
#define ERR_EMAIL_TAKEN         (&err_email_taken)        /* 409 */
#define ERR_WEAK_PASSWORD       (&err_weak_password)      /* 400 */
#define ERR_MFA_REQUIRED        (&err_mfa_required)       /* 403 */
#define ERR_ACCOUNT_DISABLED    (&err_account_disabled)   /* 403 */

#endif
