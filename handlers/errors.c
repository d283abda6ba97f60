/* The application's errors: HTTP status, stable code, default message. */
#include "errors.h"

const struct api_error err_invalid_credentials = { 401, "invalid_credentials",
	"Invalid username or password" };
const struct api_error err_invalid_token = { 401, "invalid_token",
	"Missing, invalid or expired token" };
const struct api_error err_invalid_grant = { 401, "invalid_grant",
	"Invalid or expired refresh token" };
const struct api_error err_invalid_link_token = { 400, "invalid_token",
	"Invalid, used or expired token" };
const struct api_error err_email_not_verified = { 403, "email_not_verified",
	"Email address not verified" };
const struct api_error err_username_taken = { 409, "username_taken",
	"Username is already taken" };
const struct api_error err_email_taken = { 409, "email_taken",
	"Email is already registered" };
const struct api_error err_weak_password = { 400, "weak_password",
	"Password too weak" };
const struct api_error err_mfa_required = { 403, "mfa_required",
	"A second factor is required" };
const struct api_error err_account_disabled = { 403, "account_disabled",
	"This account is disabled" };
