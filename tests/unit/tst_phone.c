/*
 * tst_phone.c - phone number parsing (phone.cc, libphonenumber) and our
 * numbering policy (numbering.c, rules/numbering.yaml).
 *
 * The table below covers GB, IE, US, DE, FR, ES, NL and AU: mobiles,
 * landlines, other types and invalid numbers, each in several written forms
 * (national, spaces, dashes, dots, slashes, parentheses, leading +, 00 and
 * 011, trunk 0, "(0)", bare E.164 digits, no-break spaces and en dashes,
 * typed with a foreign default region). Every expected value was checked
 * against Debian 12's libphonenumber 8.12.57 by running it, not guessed.
 *
 * Prints one line per failure and a summary; exits 1 on any failure.
 * "tst_phone --bench" also prints normalisations per second.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tfadesk.h"
#include "phone.h"

#include "check.h"

struct tcase {
	const char *region;
	const char *text;
	enum phone_verdict want;
	const char *e164;       /* when want is PHONE_OK */
	const char *note;
};

static const char *const verdict_names[] = {
	"PHONE_OK", "PHONE_R_INVALID", "PHONE_R_LANDLINE",
	"PHONE_R_NOT_MOBILE", "PHONE_R_COUNTRY", "PHONE_R_RANGE",
};

/* Generated from base numbers times written forms; see the comment at the
 * top. Notes say what the number is. */
static const struct tcase table[] = {
	{ "GB", "07400 123456", PHONE_OK, "447400123456", "GB mobile" },
	{ "GB", "+44 7400 123456", PHONE_OK, "447400123456", "GB mobile" },
	{ "US", "011 44 7400 123456", PHONE_OK, "447400123456", "GB mobile" },
	{ "GB", "07400-123456", PHONE_OK, "447400123456", "GB mobile" },
	{ "GB", "0044 7400 123456", PHONE_OK, "447400123456", "GB mobile" },
	{ "GB", "07400.123456", PHONE_OK, "447400123456", "GB mobile" },
	{ "GB", "(07400) 123456", PHONE_OK, "447400123456", "GB mobile" },
	{ "GB", "+44 (0)7400 123456", PHONE_OK, "447400123456", "GB mobile" },
	{ "GB", "+44 (0) 7400-123456", PHONE_OK, "447400123456", "GB mobile" },
	{ "GB", "+44 07400 123456", PHONE_OK, "447400123456", "GB mobile" },
	{ "GB", "447400123456", PHONE_OK, "447400123456", "GB mobile" },
	{ "US", "+44 7400 123456", PHONE_OK, "447400123456", "GB mobile" },
	{ "GB", "+44" "\xc2\xa0" "7400" "\xc2\xa0" "123456", PHONE_OK, "447400123456", "GB mobile" },
	{ "GB", "07400" "\xe2\x80\x93" "123456", PHONE_OK, "447400123456", "GB mobile" },
	{ "GB", "07400/123456", PHONE_OK, "447400123456", "GB mobile" },
	{ "GB", "07890 123456", PHONE_OK, "447890123456", "GB mobile of the portal help (not 447980123456)" },
	{ "GB", "+44 7890 123456", PHONE_OK, "447890123456", "GB mobile of the portal help (not 447980123456)" },
	{ "US", "011 44 7890 123456", PHONE_OK, "447890123456", "GB mobile of the portal help (not 447980123456)" },
	{ "GB", "07890-123456", PHONE_OK, "447890123456", "GB mobile of the portal help (not 447980123456)" },
	{ "GB", "0044 7890 123456", PHONE_OK, "447890123456", "GB mobile of the portal help (not 447980123456)" },
	{ "GB", "07890.123456", PHONE_OK, "447890123456", "GB mobile of the portal help (not 447980123456)" },
	{ "GB", "(07890) 123456", PHONE_OK, "447890123456", "GB mobile of the portal help (not 447980123456)" },
	{ "GB", "+44 (0)7890 123456", PHONE_OK, "447890123456", "GB mobile of the portal help (not 447980123456)" },
	{ "GB", "+44 (0) 7890-123456", PHONE_OK, "447890123456", "GB mobile of the portal help (not 447980123456)" },
	{ "GB", "+44 07890 123456", PHONE_OK, "447890123456", "GB mobile of the portal help (not 447980123456)" },
	{ "GB", "447890123456", PHONE_OK, "447890123456", "GB mobile of the portal help (not 447980123456)" },
	{ "US", "+44 7890 123456", PHONE_OK, "447890123456", "GB mobile of the portal help (not 447980123456)" },
	{ "GB", "+44" "\xc2\xa0" "7890" "\xc2\xa0" "123456", PHONE_OK, "447890123456", "GB mobile of the portal help (not 447980123456)" },
	{ "GB", "07890" "\xe2\x80\x93" "123456", PHONE_OK, "447890123456", "GB mobile of the portal help (not 447980123456)" },
	{ "GB", "07890/123456", PHONE_OK, "447890123456", "GB mobile of the portal help (not 447980123456)" },
	{ "GB", "07911 123456", PHONE_OK, "447911123456", "GB mobile (Guernsey range)" },
	{ "GB", "+44 7911 123456", PHONE_OK, "447911123456", "GB mobile (Guernsey range)" },
	{ "US", "011 44 7911 123456", PHONE_OK, "447911123456", "GB mobile (Guernsey range)" },
	{ "GB", "020 7946 0018", PHONE_R_LANDLINE, NULL, "London landline" },
	{ "GB", "+44 20 7946 0018", PHONE_R_LANDLINE, NULL, "London landline" },
	{ "US", "011 44 20 7946 0018", PHONE_R_LANDLINE, NULL, "London landline" },
	{ "GB", "020-7946-0018", PHONE_R_LANDLINE, NULL, "London landline" },
	{ "GB", "0044 20 7946 0018", PHONE_R_LANDLINE, NULL, "London landline" },
	{ "GB", "0161 496 0000", PHONE_R_LANDLINE, NULL, "Manchester landline" },
	{ "GB", "+44 161 496 0000", PHONE_R_LANDLINE, NULL, "Manchester landline" },
	{ "US", "011 44 161 496 0000", PHONE_R_LANDLINE, NULL, "Manchester landline" },
	{ "GB", "0161-496-0000", PHONE_R_LANDLINE, NULL, "Manchester landline" },
	{ "GB", "0044 161 496 0000", PHONE_R_LANDLINE, NULL, "Manchester landline" },
	{ "GB", "0114 496 0123", PHONE_R_LANDLINE, NULL, "Sheffield 0114 (not the US 011 prefix)" },
	{ "GB", "+44 114 496 0123", PHONE_R_LANDLINE, NULL, "Sheffield 0114 (not the US 011 prefix)" },
	{ "US", "011 44 114 496 0123", PHONE_R_LANDLINE, NULL, "Sheffield 0114 (not the US 011 prefix)" },
	{ "GB", "07700 900123", PHONE_R_INVALID, NULL, "Ofcom drama range 07700 900xxx" },
	{ "GB", "+44 7700 900123", PHONE_R_INVALID, NULL, "Ofcom drama range 07700 900xxx" },
	{ "US", "011 44 7700 900123", PHONE_R_INVALID, NULL, "Ofcom drama range 07700 900xxx" },
	{ "GB", "07700-900123", PHONE_R_INVALID, NULL, "Ofcom drama range 07700 900xxx" },
	{ "GB", "0044 7700 900123", PHONE_R_INVALID, NULL, "Ofcom drama range 07700 900xxx" },
	{ "GB", "07400 12345", PHONE_R_INVALID, NULL, "GB mobile one digit short" },
	{ "GB", "+44 7400 12345", PHONE_R_INVALID, NULL, "GB mobile one digit short" },
	{ "US", "011 44 7400 12345", PHONE_R_INVALID, NULL, "GB mobile one digit short" },
	{ "GB", "07400 1234567", PHONE_R_INVALID, NULL, "GB mobile one digit long" },
	{ "GB", "+44 7400 1234567", PHONE_R_INVALID, NULL, "GB mobile one digit long" },
	{ "US", "011 44 7400 1234567", PHONE_R_INVALID, NULL, "GB mobile one digit long" },
	{ "GB", "0800 123 4567", PHONE_R_NOT_MOBILE, NULL, "GB freephone (TOLL_FREE)" },
	{ "GB", "+44 800 123 4567", PHONE_R_NOT_MOBILE, NULL, "GB freephone (TOLL_FREE)" },
	{ "US", "011 44 800 123 4567", PHONE_R_NOT_MOBILE, NULL, "GB freephone (TOLL_FREE)" },
	{ "GB", "01632 960123", PHONE_R_INVALID, NULL, "Ofcom drama landline 01632 960xxx" },
	{ "GB", "+44 1632 960123", PHONE_R_INVALID, NULL, "Ofcom drama landline 01632 960xxx" },
	{ "US", "011 44 1632 960123", PHONE_R_INVALID, NULL, "Ofcom drama landline 01632 960xxx" },
	{ "IE", "087 123 4567", PHONE_OK, "353871234567", "IE mobile" },
	{ "IE", "+353 87 123 4567", PHONE_OK, "353871234567", "IE mobile" },
	{ "GB", "00 353 87 123 4567", PHONE_OK, "353871234567", "IE mobile" },
	{ "IE", "087-123-4567", PHONE_OK, "353871234567", "IE mobile" },
	{ "IE", "00353 87 123 4567", PHONE_OK, "353871234567", "IE mobile" },
	{ "IE", "087.123.4567", PHONE_OK, "353871234567", "IE mobile" },
	{ "IE", "(087) 123 4567", PHONE_OK, "353871234567", "IE mobile" },
	{ "IE", "+353 (0)87 123 4567", PHONE_OK, "353871234567", "IE mobile" },
	{ "IE", "+353 (0) 87-123-4567", PHONE_OK, "353871234567", "IE mobile" },
	{ "IE", "+353 087 123 4567", PHONE_OK, "353871234567", "IE mobile" },
	{ "IE", "353871234567", PHONE_OK, "353871234567", "IE mobile" },
	{ "GB", "+353 87 123 4567", PHONE_OK, "353871234567", "IE mobile" },
	{ "IE", "+353" "\xc2\xa0" "87" "\xc2\xa0" "123" "\xc2\xa0" "4567", PHONE_OK, "353871234567", "IE mobile" },
	{ "IE", "087" "\xe2\x80\x93" "123" "\xe2\x80\x93" "4567", PHONE_OK, "353871234567", "IE mobile" },
	{ "IE", "087/123/4567", PHONE_OK, "353871234567", "IE mobile" },
	{ "IE", "085 765 4321", PHONE_OK, "353857654321", "IE mobile" },
	{ "IE", "+353 85 765 4321", PHONE_OK, "353857654321", "IE mobile" },
	{ "GB", "00 353 85 765 4321", PHONE_OK, "353857654321", "IE mobile" },
	{ "IE", "01 234 5678", PHONE_R_LANDLINE, NULL, "Dublin landline" },
	{ "IE", "+353 1 234 5678", PHONE_R_LANDLINE, NULL, "Dublin landline" },
	{ "GB", "00 353 1 234 5678", PHONE_R_LANDLINE, NULL, "Dublin landline" },
	{ "IE", "01-234-5678", PHONE_R_LANDLINE, NULL, "Dublin landline" },
	{ "IE", "00353 1 234 5678", PHONE_R_LANDLINE, NULL, "Dublin landline" },
	{ "IE", "087 12345", PHONE_R_INVALID, NULL, "IE mobile too short" },
	{ "IE", "+353 87 12345", PHONE_R_INVALID, NULL, "IE mobile too short" },
	{ "GB", "00 353 87 12345", PHONE_R_INVALID, NULL, "IE mobile too short" },
	{ "US", "415 555 2671", PHONE_OK, "14155552671", "US FIXED_LINE_OR_MOBILE" },
	{ "US", "+1 415 555 2671", PHONE_OK, "14155552671", "US FIXED_LINE_OR_MOBILE" },
	{ "GB", "00 1 415 555 2671", PHONE_OK, "14155552671", "US FIXED_LINE_OR_MOBILE" },
	{ "US", "415-555-2671", PHONE_OK, "14155552671", "US FIXED_LINE_OR_MOBILE" },
	{ "US", "+1-415-555-2671", PHONE_OK, "14155552671", "US FIXED_LINE_OR_MOBILE" },
	{ "US", "415.555.2671", PHONE_OK, "14155552671", "US FIXED_LINE_OR_MOBILE" },
	{ "US", "(415) 555-2671", PHONE_OK, "14155552671", "US FIXED_LINE_OR_MOBILE" },
	{ "US", "1 (415) 555-2671", PHONE_OK, "14155552671", "US FIXED_LINE_OR_MOBILE" },
	{ "US", "+1 (415) 555-2671", PHONE_OK, "14155552671", "US FIXED_LINE_OR_MOBILE" },
	{ "US", "+1 (0) 415 555 2671", PHONE_OK, "14155552671", "US FIXED_LINE_OR_MOBILE" },
	{ "US", "14155552671", PHONE_OK, "14155552671", "US FIXED_LINE_OR_MOBILE" },
	{ "GB", "+1 415 555 2671", PHONE_OK, "14155552671", "US FIXED_LINE_OR_MOBILE" },
	{ "US", "+1" "\xc2\xa0" "415" "\xc2\xa0" "555" "\xc2\xa0" "2671", PHONE_OK, "14155552671", "US FIXED_LINE_OR_MOBILE" },
	{ "US", "415" "\xe2\x80\x93" "555" "\xe2\x80\x93" "2671", PHONE_OK, "14155552671", "US FIXED_LINE_OR_MOBILE" },
	{ "US", "415/555/2671", PHONE_OK, "14155552671", "US FIXED_LINE_OR_MOBILE" },
	{ "US", "202 555 0123", PHONE_OK, "12025550123", "US FIXED_LINE_OR_MOBILE" },
	{ "US", "+1 202 555 0123", PHONE_OK, "12025550123", "US FIXED_LINE_OR_MOBILE" },
	{ "GB", "00 1 202 555 0123", PHONE_OK, "12025550123", "US FIXED_LINE_OR_MOBILE" },
	{ "US", "800 555 0100", PHONE_R_NOT_MOBILE, NULL, "US toll free" },
	{ "US", "+1 800 555 0100", PHONE_R_NOT_MOBILE, NULL, "US toll free" },
	{ "GB", "00 1 800 555 0100", PHONE_R_NOT_MOBILE, NULL, "US toll free" },
	{ "US", "800-555-0100", PHONE_R_NOT_MOBILE, NULL, "US toll free" },
	{ "US", "+1-800-555-0100", PHONE_R_NOT_MOBILE, NULL, "US toll free" },
	{ "US", "123 456 7890", PHONE_R_INVALID, NULL, "US area code 123" },
	{ "US", "+1 123 456 7890", PHONE_R_INVALID, NULL, "US area code 123" },
	{ "GB", "00 1 123 456 7890", PHONE_R_INVALID, NULL, "US area code 123" },
	{ "US", "415 555 267", PHONE_R_INVALID, NULL, "US one digit short" },
	{ "US", "+1 415 555 267", PHONE_R_INVALID, NULL, "US one digit short" },
	{ "GB", "00 1 415 555 267", PHONE_R_INVALID, NULL, "US one digit short" },
	{ "DE", "0151 23456789", PHONE_OK, "4915123456789", "DE mobile" },
	{ "DE", "+49 151 23456789", PHONE_OK, "4915123456789", "DE mobile" },
	{ "FR", "00 49 151 23456789", PHONE_OK, "4915123456789", "DE mobile" },
	{ "DE", "0151-23456789", PHONE_OK, "4915123456789", "DE mobile" },
	{ "DE", "0049 151 23456789", PHONE_OK, "4915123456789", "DE mobile" },
	{ "DE", "0151.23456789", PHONE_OK, "4915123456789", "DE mobile" },
	{ "DE", "(0151) 23456789", PHONE_OK, "4915123456789", "DE mobile" },
	{ "DE", "+49 (0)151 23456789", PHONE_OK, "4915123456789", "DE mobile" },
	{ "DE", "+49 (0) 151-23456789", PHONE_OK, "4915123456789", "DE mobile" },
	{ "DE", "+49 0151 23456789", PHONE_OK, "4915123456789", "DE mobile" },
	{ "DE", "4915123456789", PHONE_OK, "4915123456789", "DE mobile" },
	{ "FR", "+49 151 23456789", PHONE_OK, "4915123456789", "DE mobile" },
	{ "DE", "+49" "\xc2\xa0" "151" "\xc2\xa0" "23456789", PHONE_OK, "4915123456789", "DE mobile" },
	{ "DE", "0151" "\xe2\x80\x93" "23456789", PHONE_OK, "4915123456789", "DE mobile" },
	{ "DE", "0151/23456789", PHONE_OK, "4915123456789", "DE mobile" },
	{ "DE", "0176 12345678", PHONE_OK, "4917612345678", "DE mobile" },
	{ "DE", "+49 176 12345678", PHONE_OK, "4917612345678", "DE mobile" },
	{ "FR", "00 49 176 12345678", PHONE_OK, "4917612345678", "DE mobile" },
	{ "DE", "030 12345678", PHONE_R_LANDLINE, NULL, "Berlin landline" },
	{ "DE", "+49 30 12345678", PHONE_R_LANDLINE, NULL, "Berlin landline" },
	{ "FR", "00 49 30 12345678", PHONE_R_LANDLINE, NULL, "Berlin landline" },
	{ "DE", "030-12345678", PHONE_R_LANDLINE, NULL, "Berlin landline" },
	{ "DE", "0049 30 12345678", PHONE_R_LANDLINE, NULL, "Berlin landline" },
	{ "DE", "0151 123", PHONE_R_INVALID, NULL, "DE mobile too short" },
	{ "DE", "+49 151 123", PHONE_R_INVALID, NULL, "DE mobile too short" },
	{ "FR", "00 49 151 123", PHONE_R_INVALID, NULL, "DE mobile too short" },
	{ "FR", "06 12 34 56 78", PHONE_OK, "33612345678", "FR mobile" },
	{ "FR", "+33 6 12 34 56 78", PHONE_OK, "33612345678", "FR mobile" },
	{ "DE", "00 33 6 12 34 56 78", PHONE_OK, "33612345678", "FR mobile" },
	{ "FR", "06-12-34-56-78", PHONE_OK, "33612345678", "FR mobile" },
	{ "FR", "0033 6 12 34 56 78", PHONE_OK, "33612345678", "FR mobile" },
	{ "FR", "06.12.34.56.78", PHONE_OK, "33612345678", "FR mobile" },
	{ "FR", "(06) 12 34 56 78", PHONE_OK, "33612345678", "FR mobile" },
	{ "FR", "+33 (0)6 12 34 56 78", PHONE_OK, "33612345678", "FR mobile" },
	{ "FR", "+33 (0) 6-12-34-56-78", PHONE_OK, "33612345678", "FR mobile" },
	{ "FR", "+33 06 12 34 56 78", PHONE_OK, "33612345678", "FR mobile" },
	{ "FR", "33612345678", PHONE_OK, "33612345678", "FR mobile" },
	{ "DE", "+33 6 12 34 56 78", PHONE_OK, "33612345678", "FR mobile" },
	{ "FR", "+33" "\xc2\xa0" "6" "\xc2\xa0" "12" "\xc2\xa0" "34" "\xc2\xa0" "56" "\xc2\xa0" "78", PHONE_OK, "33612345678", "FR mobile" },
	{ "FR", "06" "\xe2\x80\x93" "12" "\xe2\x80\x93" "34" "\xe2\x80\x93" "56" "\xe2\x80\x93" "78", PHONE_OK, "33612345678", "FR mobile" },
	{ "FR", "06/12/34/56/78", PHONE_OK, "33612345678", "FR mobile" },
	{ "FR", "07 81 23 45 67", PHONE_OK, "33781234567", "FR mobile 07" },
	{ "FR", "+33 7 81 23 45 67", PHONE_OK, "33781234567", "FR mobile 07" },
	{ "DE", "00 33 7 81 23 45 67", PHONE_OK, "33781234567", "FR mobile 07" },
	{ "FR", "01 42 68 53 00", PHONE_R_LANDLINE, NULL, "Paris landline" },
	{ "FR", "+33 1 42 68 53 00", PHONE_R_LANDLINE, NULL, "Paris landline" },
	{ "DE", "00 33 1 42 68 53 00", PHONE_R_LANDLINE, NULL, "Paris landline" },
	{ "FR", "01-42-68-53-00", PHONE_R_LANDLINE, NULL, "Paris landline" },
	{ "FR", "0033 1 42 68 53 00", PHONE_R_LANDLINE, NULL, "Paris landline" },
	{ "FR", "09 12 34 56 78", PHONE_R_NOT_MOBILE, NULL, "FR 09 (VOIP)" },
	{ "FR", "+33 9 12 34 56 78", PHONE_R_NOT_MOBILE, NULL, "FR 09 (VOIP)" },
	{ "DE", "00 33 9 12 34 56 78", PHONE_R_NOT_MOBILE, NULL, "FR 09 (VOIP)" },
	{ "FR", "06 12 34 56", PHONE_R_INVALID, NULL, "FR mobile too short" },
	{ "FR", "+33 6 12 34 56", PHONE_R_INVALID, NULL, "FR mobile too short" },
	{ "DE", "00 33 6 12 34 56", PHONE_R_INVALID, NULL, "FR mobile too short" },
	{ "FR", "07 12 34 56 78", PHONE_R_INVALID, NULL, "FR 0712 not allocated (libphonenumber 8.12)" },
	{ "FR", "+33 7 12 34 56 78", PHONE_R_INVALID, NULL, "FR 0712 not allocated (libphonenumber 8.12)" },
	{ "DE", "00 33 7 12 34 56 78", PHONE_R_INVALID, NULL, "FR 0712 not allocated (libphonenumber 8.12)" },
	{ "ES", "612 345 678", PHONE_OK, "34612345678", "ES mobile" },
	{ "ES", "+34 612 345 678", PHONE_OK, "34612345678", "ES mobile" },
	{ "US", "011 34 612 345 678", PHONE_OK, "34612345678", "ES mobile" },
	{ "ES", "612-345-678", PHONE_OK, "34612345678", "ES mobile" },
	{ "ES", "0034 612 345 678", PHONE_OK, "34612345678", "ES mobile" },
	{ "ES", "612.345.678", PHONE_OK, "34612345678", "ES mobile" },
	{ "ES", "+34 (0)612 345 678", PHONE_OK, "34612345678", "ES mobile" },
	{ "ES", "(612) 345 678", PHONE_OK, "34612345678", "ES mobile" },
	{ "ES", "34612345678", PHONE_OK, "34612345678", "ES mobile" },
	{ "US", "+34 612 345 678", PHONE_OK, "34612345678", "ES mobile" },
	{ "ES", "+34" "\xc2\xa0" "612" "\xc2\xa0" "345" "\xc2\xa0" "678", PHONE_OK, "34612345678", "ES mobile" },
	{ "ES", "612" "\xe2\x80\x93" "345" "\xe2\x80\x93" "678", PHONE_OK, "34612345678", "ES mobile" },
	{ "ES", "612/345/678", PHONE_OK, "34612345678", "ES mobile" },
	{ "ES", "712 345 678", PHONE_OK, "34712345678", "ES mobile 7xx" },
	{ "ES", "+34 712 345 678", PHONE_OK, "34712345678", "ES mobile 7xx" },
	{ "US", "011 34 712 345 678", PHONE_OK, "34712345678", "ES mobile 7xx" },
	{ "ES", "91 123 45 67", PHONE_R_LANDLINE, NULL, "Madrid landline" },
	{ "ES", "+34 91 123 45 67", PHONE_R_LANDLINE, NULL, "Madrid landline" },
	{ "US", "011 34 91 123 45 67", PHONE_R_LANDLINE, NULL, "Madrid landline" },
	{ "ES", "91-123-45-67", PHONE_R_LANDLINE, NULL, "Madrid landline" },
	{ "ES", "0034 91 123 45 67", PHONE_R_LANDLINE, NULL, "Madrid landline" },
	{ "ES", "612 345 67", PHONE_R_INVALID, NULL, "ES mobile too short" },
	{ "ES", "+34 612 345 67", PHONE_R_INVALID, NULL, "ES mobile too short" },
	{ "US", "011 34 612 345 67", PHONE_R_INVALID, NULL, "ES mobile too short" },
	{ "NL", "06 12345678", PHONE_OK, "31612345678", "NL mobile" },
	{ "NL", "+31 6 12345678", PHONE_OK, "31612345678", "NL mobile" },
	{ "AU", "0011 31 6 12345678", PHONE_OK, "31612345678", "NL mobile" },
	{ "NL", "06-12345678", PHONE_OK, "31612345678", "NL mobile" },
	{ "NL", "0031 6 12345678", PHONE_OK, "31612345678", "NL mobile" },
	{ "NL", "06.12345678", PHONE_OK, "31612345678", "NL mobile" },
	{ "NL", "(06) 12345678", PHONE_OK, "31612345678", "NL mobile" },
	{ "NL", "+31 (0)6 12345678", PHONE_OK, "31612345678", "NL mobile" },
	{ "NL", "+31 (0) 6-12345678", PHONE_OK, "31612345678", "NL mobile" },
	{ "NL", "+31 06 12345678", PHONE_OK, "31612345678", "NL mobile" },
	{ "NL", "31612345678", PHONE_OK, "31612345678", "NL mobile" },
	{ "AU", "+31 6 12345678", PHONE_OK, "31612345678", "NL mobile" },
	{ "NL", "+31" "\xc2\xa0" "6" "\xc2\xa0" "12345678", PHONE_OK, "31612345678", "NL mobile" },
	{ "NL", "06" "\xe2\x80\x93" "12345678", PHONE_OK, "31612345678", "NL mobile" },
	{ "NL", "06/12345678", PHONE_OK, "31612345678", "NL mobile" },
	{ "NL", "020 123 4567", PHONE_R_LANDLINE, NULL, "Amsterdam landline" },
	{ "NL", "+31 20 123 4567", PHONE_R_LANDLINE, NULL, "Amsterdam landline" },
	{ "AU", "0011 31 20 123 4567", PHONE_R_LANDLINE, NULL, "Amsterdam landline" },
	{ "NL", "020-123-4567", PHONE_R_LANDLINE, NULL, "Amsterdam landline" },
	{ "NL", "0031 20 123 4567", PHONE_R_LANDLINE, NULL, "Amsterdam landline" },
	{ "NL", "06 1234567", PHONE_R_INVALID, NULL, "NL mobile too short" },
	{ "NL", "+31 6 1234567", PHONE_R_INVALID, NULL, "NL mobile too short" },
	{ "AU", "0011 31 6 1234567", PHONE_R_INVALID, NULL, "NL mobile too short" },
	{ "AU", "0412 345 678", PHONE_OK, "61412345678", "AU mobile" },
	{ "AU", "+61 412 345 678", PHONE_OK, "61412345678", "AU mobile" },
	{ "IE", "00 61 412 345 678", PHONE_OK, "61412345678", "AU mobile" },
	{ "AU", "0412-345-678", PHONE_OK, "61412345678", "AU mobile" },
	{ "AU", "0061 412 345 678", PHONE_OK, "61412345678", "AU mobile" },
	{ "AU", "0412.345.678", PHONE_OK, "61412345678", "AU mobile" },
	{ "AU", "(0412) 345 678", PHONE_OK, "61412345678", "AU mobile" },
	{ "AU", "+61 (0)412 345 678", PHONE_OK, "61412345678", "AU mobile" },
	{ "AU", "+61 (0) 412-345-678", PHONE_OK, "61412345678", "AU mobile" },
	{ "AU", "+61 0412 345 678", PHONE_OK, "61412345678", "AU mobile" },
	{ "AU", "61412345678", PHONE_OK, "61412345678", "AU mobile" },
	{ "IE", "+61 412 345 678", PHONE_OK, "61412345678", "AU mobile" },
	{ "AU", "+61" "\xc2\xa0" "412" "\xc2\xa0" "345" "\xc2\xa0" "678", PHONE_OK, "61412345678", "AU mobile" },
	{ "AU", "0412" "\xe2\x80\x93" "345" "\xe2\x80\x93" "678", PHONE_OK, "61412345678", "AU mobile" },
	{ "AU", "0412/345/678", PHONE_OK, "61412345678", "AU mobile" },
	{ "AU", "02 9876 5432", PHONE_R_LANDLINE, NULL, "Sydney landline" },
	{ "AU", "+61 2 9876 5432", PHONE_R_LANDLINE, NULL, "Sydney landline" },
	{ "IE", "00 61 2 9876 5432", PHONE_R_LANDLINE, NULL, "Sydney landline" },
	{ "AU", "02-9876-5432", PHONE_R_LANDLINE, NULL, "Sydney landline" },
	{ "AU", "0061 2 9876 5432", PHONE_R_LANDLINE, NULL, "Sydney landline" },
	{ "AU", "0412 345 67", PHONE_R_INVALID, NULL, "AU mobile too short" },
	{ "AU", "+61 412 345 67", PHONE_R_INVALID, NULL, "AU mobile too short" },
	{ "IE", "00 61 412 345 67", PHONE_R_INVALID, NULL, "AU mobile too short" },
};

/* Hand-written cases: hygiene, prefixes, ambiguities, odd input. */
static const struct tcase special[] = {
	/* Vanity numbers and extensions: libphonenumber accepts them as
	 * valid, we refuse them as not a mobile. */
	{ "GB", "0800 FLOWERS", PHONE_R_NOT_MOBILE, NULL, "vanity" },
	{ "US", "1-800-FLOWERS", PHONE_R_NOT_MOBILE, NULL, "vanity" },
	{ "GB", "07400 CALLME", PHONE_R_NOT_MOBILE, NULL, "vanity" },
	{ "GB", "07400 123456 ext 12", PHONE_R_NOT_MOBILE, NULL, "ext" },
	{ "GB", "07400 123456 ext. 12", PHONE_R_NOT_MOBILE, NULL, "ext" },
	{ "GB", "07400 123456 extension 3", PHONE_R_NOT_MOBILE, NULL, "ext" },
	{ "GB", "07400 123456 x12", PHONE_R_NOT_MOBILE, NULL, "ext" },
	{ "GB", "07400 123456#12", PHONE_R_NOT_MOBILE, NULL, "ext" },
	{ "GB", "+447400123456;ext=12", PHONE_R_NOT_MOBILE, NULL, "ext" },
	{ "US", "415-555-2671 Ext: 9", PHONE_R_NOT_MOBILE, NULL, "ext" },
	{ "GB", "07400 123456 (mobile)", PHONE_R_NOT_MOBILE, NULL, "word" },
	/* Not numbers at all. */
	{ "GB", "", PHONE_R_INVALID, NULL, "empty" },
	{ "GB", "   ", PHONE_R_INVALID, NULL, "blank" },
	{ "GB", "n/a", PHONE_R_INVALID, NULL, "no digits" },
	{ "GB", "+", PHONE_R_INVALID, NULL, "plus alone" },
	{ "GB", "+44 7400 12+3456", PHONE_R_INVALID, NULL, "second plus" },
	{ "GB", "07400 123456\xff", PHONE_R_INVALID, NULL, "bad UTF-8" },
	{ "GB", "07400 \xc0\xa0" "123456", PHONE_R_INVALID, NULL, "overlong" },
	{ "GB", "07400 123456\xe2\x82\xac", PHONE_R_INVALID, NULL, "euro sign" },
	{ "GB", "07400_123456", PHONE_R_INVALID, NULL, "underscore" },
	{ "GB", "074001234560000000000", PHONE_R_INVALID, NULL, "21 digits" },
	{ "GB", "0 7 4 0 0 1 2 3 4 5 6 0 7 4 0 0 1 2 3 4 5 6 0 7 4 0 0 1 2 "
	    "3 4 5 6 0", PHONE_R_INVALID, NULL, "over 64 bytes" },
	{ "GB", "+999 1234 5678", PHONE_R_INVALID, NULL, "no such CC" },
	{ "GB", "1", PHONE_R_INVALID, NULL, "one digit" },
	/* Unicode look-alikes. */
	{ "GB", "\xef\xbc\x90\xef\xbc\x97\xef\xbc\x94\xef\xbc\x90\xef\xbc\x90"
	    " 123456", PHONE_OK, "447400123456", "full-width digits" },
	{ "GB", "\xef\xbc\x8b" "44 7400 123456", PHONE_OK, "447400123456",
	    "full-width plus" },
	{ "GB", "+44\xe2\x80\xaf" "7400\xe2\x80\x89" "123456", PHONE_OK,
	    "447400123456", "narrow no-break and thin spaces" },
	{ "GB", "07400\xe2\x80\x94" "123\xe2\x88\x92" "456", PHONE_OK,
	    "447400123456", "em dash and minus sign" },
	{ "GB", "\xef\xbb\xbf" "07400 123456", PHONE_OK, "447400123456",
	    "byte order mark" },
	{ "GB", " \t07400 123456\r\n", PHONE_OK, "447400123456", "blanks" },
	{ "GB", "tel:+44-7400-123456", PHONE_OK, "447400123456", "tel URI" },
	/* International prefixes whatever the default region. */
	{ "US", "0044 7400 123456", PHONE_OK, "447400123456", "00 from US" },
	{ "GB", "011 44 7400 123456", PHONE_OK, "447400123456", "011 from GB" },
	{ "AU", "0011 44 7400 123456", PHONE_OK, "447400123456", "AU IDD" },
	{ "AU", "0061 412 345 678", PHONE_OK, "61412345678", "00 in AU" },
	{ "US", "+1 (0) 415 555 2671", PHONE_OK, "14155552671", "(0) in +1" },
	{ "GB", "( 0 ) 7400 123456", PHONE_OK, "447400123456", "( 0 ) first" },
	{ "GB", "44 (0)7400 123456", PHONE_OK, "447400123456", "no plus, (0)" },
	/* Italy keeps its 0 after +39: "(0)" must not lose it. */
	{ "IT", "+39 (0)6 1234 5678", PHONE_R_LANDLINE, NULL, "Rome" },
	{ "GB", "+39 347 123 4567", PHONE_OK, "393471234567", "IT mobile" },
	/* E.164 digits without '+', as the portal stores them. */
	{ "DE", "4915123456789", PHONE_OK, "4915123456789",
	    "own CC first (not a landline in Leer, 0491)" },
	{ "DE", "15123456789", PHONE_OK, "4915123456789", "no trunk 0" },
	{ "US", "447400123456", PHONE_OK, "447400123456", "bare from US" },
	{ "GB", "14155552671", PHONE_OK, "14155552671", "bare US from GB" },
	{ "GB", "7400 123456", PHONE_OK, "447400123456", "no trunk 0" },
	/* Regions: lower case, unknown, none. */
	{ "gb", "07400 123456", PHONE_OK, "447400123456", "lower case" },
	{ "XX", "07400 123456", PHONE_R_INVALID, NULL, "unknown region" },
	{ NULL, "07400 123456", PHONE_R_INVALID, NULL, "no region" },
	{ NULL, "+44 7400 123456", PHONE_OK, "447400123456", "no region, +" },
	/* A GB national number typed with a DE default is a German number:
	 * libphonenumber reads 07400 123456 as a valid DE landline. */
	{ "DE", "07400 123456", PHONE_R_LANDLINE, NULL, "GB national from DE" },
	{ "FR", "07400 123456", PHONE_R_INVALID, NULL, "GB national from FR" },
	/* Other types. */
	{ "GB", "0900 123 4567", PHONE_R_NOT_MOBILE, NULL, "PREMIUM_RATE" },
	{ "GB", "0300 123 4567", PHONE_R_NOT_MOBILE, NULL, "UAN" },
	{ "GB", "07624 123456", PHONE_OK, "447624123456", "Isle of Man" },
	{ "GB", "+883 5100 1234 5678", PHONE_R_NOT_MOBILE, NULL, "883 VOIP" },
	{ "GB", "+881 6 1234 5678", PHONE_OK, "881612345678",
	    "881 satellite: MOBILE; refuse by policy if wanted" },
	/* Ofcom's drama range, every form: invalid in libphonenumber 8.12. */
	{ "GB", "07700 900000", PHONE_R_INVALID, NULL, "drama low end" },
	{ "GB", "07700 900999", PHONE_R_INVALID, NULL, "drama high end" },
	{ "GB", "+44 (0)7700 900 123", PHONE_R_INVALID, NULL, "drama" },
	{ "US", "011 44 7700 900123", PHONE_R_INVALID, NULL, "drama" },
	/* ACMA's fictitious mobile is valid to libphonenumber (see the
	 * refused_ranges test); NANP 555-01xx is FIXED_LINE_OR_MOBILE. */
	{ "AU", "0491 570 156", PHONE_OK, "61491570156", "ACMA drama" },
	{ "US", "(212) 555-0100", PHONE_OK, "12125550100", "NANP 555-01xx" },
};

static const char *
vname(enum phone_verdict v)
{
	if ((unsigned)v < sizeof verdict_names / sizeof *verdict_names)
		return verdict_names[v];
	return "?";
}

/* Runs CASES against NB; returns the number of failures. */
static int
run_cases(const struct numbering *nb, const char *label,
    const struct tcase *cases, size_t n, int quiet)
{
	char out[20];
	const char *why;
	enum phone_verdict v;
	int bad = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct tcase *t = &cases[i];

		memset(out, 'X', sizeof out);
		v = phone_check(nb, t->text, t->region, out, &why);
		if (!quiet)
			CHECKED();
		if (v != t->want || (v == PHONE_OK && (t->e164 == NULL ||
		    strcmp(out, t->e164) != 0)) ||
		    (v != PHONE_OK && (why == NULL || out[0] != '\0')) ||
		    (v == PHONE_OK && why != NULL)) {
			bad++;
			if (quiet)
				continue;
			CHECK_FAILED();
			printf("FAIL %s: [%s] \"%s\" (%s): got %s %s%s, want %s "
			    "%s\n", label, t->region ? t->region : "NULL",
			    t->text, t->note, vname(v),
			    v == PHONE_OK ? out : "",
			    why ? why : "", vname(t->want),
			    t->e164 ? t->e164 : "");
		}
	}
	return bad;
}

/* phone_normalize() must agree with phone_check() and say why. */
static void
test_normalize_whys(void)
{
	static const struct {
		const char *region, *text, *why;
	} w[] = {
		{ "GB", "07700 900123", "not a valid phone number" },
		{ "GB", "abc", "not a valid phone number" },
		{ "GB", "0123456789012345678901234567890123456789012345678901"
		    "234567890123", "not a valid phone number (too long)" },
		{ "GB", "020 7946 0018",
		    "a landline, which cannot receive SMS codes" },
		{ "GB", "0800 123 4567", "not a mobile number (TOLL_FREE)" },
		{ "FR", "09 12 34 56 78", "not a mobile number (VOIP)" },
		{ "GB", "0800 FLOWERS", "not a mobile number (it has letters)" },
		{ "GB", "07400 123456 ext 1",
		    "not a mobile number (it has an extension)" },
	};
	char out[20];
	const char *why;
	size_t i;

	for (i = 0; i < sizeof w / sizeof *w; i++) {
		why = NULL;
		CHECK(phone_normalize(NULL, w[i].text, w[i].region, out,
		    &why) == -1, "normalize \"%s\" should fail", w[i].text);
		CHECK(why != NULL && strcmp(why, w[i].why) == 0,
		    "why for \"%s\": got \"%s\", want \"%s\"", w[i].text,
		    why ? why : "(null)", w[i].why);
	}
	CHECK(phone_normalize(NULL, "07400 123456", "GB", out, NULL) == 0 &&
	    strcmp(out, "447400123456") == 0, "normalize with why NULL");
	CHECK(phone_normalize(NULL, NULL, "GB", out, &why) == -1 &&
	    strcmp(why, "not a valid phone number") == 0, "NULL text");
}

/* The portal's help text shows the UK mobile 07890123456 as 447980123456:
 * a transposition of 8 and 9. Both are valid GB mobiles, so nothing but a
 * test catches it: 07890123456 is 447890123456. */
static void
test_portal_transposition(void)
{
	char out[20];
	const char *why;

	CHECK(phone_normalize(NULL, "07890123456", "GB", out, &why) == 0,
	    "07890123456 should be accepted");
	CHECK(strcmp(out, "447890123456") == 0,
	    "07890123456 must be stored as 447890123456, got %s", out);
	CHECK(strcmp(out, "447980123456") != 0,
	    "07890123456 is NOT 447980123456: the portal's help text "
	    "transposes 8 and 9");
	CHECK(phone_normalize(NULL, "447980123456", "GB", out, &why) == 0 &&
	    strcmp(out, "447980123456") == 0,
	    "447980123456 is a different (also valid) number: 07980123456");
}

/* Ofcom's drama range 07700 900000-900999: libphonenumber 8.12.57 says
 * invalid for all of it (checked), and our shipped policy lists it in
 * refused_ranges too, so that a metadata change cannot let it through. */
static void
test_drama_range(const struct numbering *shipped)
{
	struct phone_info pi;
	char text[32], out[20];
	const char *why;
	int n, invalid = 0;

	for (n = 0; n < 1000; n++) {
		snprintf(text, sizeof text, "07700 900%03d", n);
		if (phone_parse(text, "GB", &pi) == 0 && !pi.valid &&
		    strncmp(pi.e164, "447700900", 9) == 0)
			invalid++;
		if (shipped != NULL &&
		    phone_check(shipped, text, "GB", out, &why) == PHONE_OK)
			CHECK(0, "drama number %s accepted", text);
	}
	CHECK(invalid == 1000, "libphonenumber says %d of 1000 drama numbers "
	    "invalid (8.12.57: all)", invalid);
	/* Just outside: 07700 901xxx is an ordinary (valid) mobile range? Let
	 * the library answer; only the drama block must be refused. */
	CHECK(phone_parse("07700 900123", "GB", &pi) == 0 && !pi.valid &&
	    pi.country_code == 44, "drama number parses, invalid, +44");
}

/* phone_parse() fields and phone_type_name()/phone_type_parse(). */
static void
test_parse_fields(void)
{
	struct phone_info pi;
	enum phone_type t;
	int i;

	CHECK(phone_parse("07400 123456", "GB", &pi) == 0 && pi.valid &&
	    pi.type == PHONE_MOBILE && pi.country_code == 44 &&
	    strcmp(pi.e164, "447400123456") == 0 &&
	    strcmp(pi.region, "GB") == 0 && pi.input == PHONE_IN_OK,
	    "parse GB mobile fields");
	CHECK(phone_parse("07911 123456", "GB", &pi) == 0 &&
	    strcmp(pi.region, "GG") == 0, "+44 7911 is Guernsey (GG)");
	CHECK(phone_parse("415 555 2671", "US", &pi) == 0 && pi.valid &&
	    pi.type == PHONE_FIXED_LINE_OR_MOBILE && pi.country_code == 1,
	    "US is FIXED_LINE_OR_MOBILE");
	CHECK(phone_parse("+800 1234 5678", "GB", &pi) == 0 && pi.valid &&
	    pi.type == PHONE_TOLL_FREE && pi.region[0] == '\0' &&
	    pi.country_code == 800, "+800 non-geographic: region empty");
	CHECK(phone_parse("07400 12345", "GB", &pi) == 0 && !pi.valid,
	    "short number parses as invalid");
	CHECK(phone_parse("abc", "GB", &pi) == -1 &&
	    pi.input == PHONE_IN_JUNK, "abc: -1 JUNK");
	CHECK(phone_parse("0800 FLOWERS", "GB", &pi) == -1 &&
	    pi.input == PHONE_IN_LETTERS, "vanity: -1 LETTERS");
	CHECK(phone_parse("07400 123456 x1", "GB", &pi) == -1 &&
	    pi.input == PHONE_IN_EXTENSION, "x1: -1 EXTENSION");
	CHECK(phone_parse("", "GB", &pi) == -1 && pi.input == PHONE_IN_EMPTY,
	    "empty: -1 EMPTY");
	CHECK(phone_parse(NULL, "GB", &pi) == -1, "NULL: -1");
	CHECK(phone_parse("+999 123", "GB", &pi) == -1 &&
	    pi.input == PHONE_IN_UNPARSED, "+999: -1 UNPARSED");

	for (i = 0; i < PHONE_NTYPES; i++) {
		CHECK(phone_type_parse(phone_type_name((enum phone_type)i),
		    &t) == 0 && (int)t == i, "type %d round trip", i);
	}
	CHECK(strcmp(phone_type_name(PHONE_MOBILE), "MOBILE") == 0 &&
	    strcmp(phone_type_name(PHONE_FIXED_LINE_OR_MOBILE),
	    "FIXED_LINE_OR_MOBILE") == 0 &&
	    strcmp(phone_type_name((enum phone_type)99), "UNKNOWN") == 0,
	    "type names");
	CHECK(phone_type_parse("MOBILES", &t) == -1 &&
	    phone_type_parse("", &t) == -1 && phone_type_parse(NULL, &t) == -1,
	    "unknown type names");
}

/* Writes TEXT to a temp file; returns its path (owned). */
static char *
temp_yaml(const char *text)
{
	char *path = xstrdup("/tmp/tst_phone.XXXXXX");
	const char *dir = getenv("TMPDIR");
	FILE *f;
	int fd;

	if (dir != NULL && *dir != '\0') {
		free(path);
		path = xstrfmt("%s/tst_phone.XXXXXX", dir);
	}
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	return path;
}

/* numbering_load() of PATH; *ERR gets what it printed to stderr. */
static struct numbering *
load_quiet(const char *path, char **err)
{
	struct numbering *nb;
	char *errpath;
	size_t len;
	int saved, fd;

	errpath = temp_yaml("");
	fflush(stderr);
	saved = dup(2);
	fd = open(errpath, O_WRONLY | O_TRUNC);
	dup2(fd, 2);
	close(fd);
	nb = numbering_load(path);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	if (read_file(errpath, 1 << 16, err, &len) != 0)
		*err = xstrdup("");
	unlink(errpath);
	free(errpath);
	return nb;
}

/* numbering_load() of TEXT in a temp file (*PATH, owned). */
static struct numbering *
load_text(const char *text, char **path, char **err)
{
	*path = temp_yaml(text);
	return load_quiet(*path, err);
}

static void
test_numbering_errors(void)
{
	static const struct {
		const char *yaml;
		int line;
		const char *msg;
	} bad[] = {
		{ "sms_types: [MOBILE\n", 2, "" },               /* bad YAML */
		{ "sms_types: [MOBILE]\n  x: : y\n", 2, "" },
		{ "sms_types: [MOBILE]\nrefused: [44]\n", 2,
		    "refused: unknown key" },
		{ "# policy\nsms_types: [MOBILE, CELLPHONE]\n", 2,
		    "unknown number type \"CELLPHONE\"" },
		{ "sms_types: MOBILE\n", 1, "expected a list" },
		{ "sms_types: [[MOBILE]]\n", 1, "expected a type name" },
		{ "sms_types: []\n", 1, "empty" },
		{ "refused_country_codes: []\n", 1, "sms_types: missing" },
		{ "", 1, "empty file" },
		{ "# only a comment\n", 1, "empty file" },
		{ "- MOBILE\n", 1, "expected a mapping" },
		{ "sms_types: [MOBILE]\nsms_types: [VOIP]\n", 2,
		    "given twice" },
		{ "sms_types: [MOBILE]\nrefused_country_codes: [abc]\n", 2,
		    "not a country calling code" },
		{ "sms_types: [MOBILE]\nrefused_country_codes: [0]\n", 2,
		    "not a country calling code" },
		{ "sms_types: [MOBILE]\nrefused_country_codes: [1000]\n", 2,
		    "not a country calling code" },
		{ "sms_types: [MOBILE]\nrefused_country_codes: 44\n", 2,
		    "expected a list" },
		{ "sms_types: [MOBILE]\nrefused_ranges: [\"07700900\"]\n", 2,
		    "not an E.164 prefix" },
		{ "sms_types: [MOBILE]\nrefused_ranges: [\"44 7700\"]\n", 2,
		    "not an E.164 prefix" },
		{ "sms_types: [MOBILE]\nrefused_ranges:\n  - 4477\n  - x\n", 4,
		    "not an E.164 prefix" },
	};
	struct numbering *nb;
	char *path, *err, want[600];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		nb = load_text(bad[i].yaml, &path, &err);
		CHECK(nb == NULL, "bad numbering %zu loaded", i);
		snprintf(want, sizeof want, "%s:%d: ", path, bad[i].line);
		CHECK(strstr(err, want) != NULL &&
		    strstr(err, bad[i].msg) != NULL, "bad numbering %zu: "
		    "stderr \"%s\" lacks \"%s\" or \"%s\"", i, err, want,
		    bad[i].msg);
		numbering_free(nb);
		unlink(path);
		free(path);
		free(err);
	}

	/* Every problem is reported in one pass. */
	nb = load_text("sms_types: [FAX]\nfoo: 1\nrefused_country_codes: "
	    "[x]\n", &path, &err);
	CHECK(nb == NULL && strstr(err, ":1: ") && strstr(err, ":2: ") &&
	    strstr(err, ":3: "), "all three errors reported: \"%s\"", err);
	numbering_free(nb);
	unlink(path);
	free(path);
	free(err);

	/* A missing file. */
	nb = load_text("", &path, &err);
	numbering_free(nb);
	unlink(path);
	free(err);
	nb = load_quiet(path, &err);
	CHECK(nb == NULL && strstr(err, path) != NULL &&
	    strstr(err, "No such file") != NULL, "missing file: \"%s\"", err);
	free(path);
	free(err);
	numbering_free(NULL);
}

/* A policy of our own: MOBILE only, 881 refused, the ACMA fictitious
 * mobile block refused by range, null values as empty lists. */
static void
test_numbering_policy(void)
{
	static const struct tcase cases[] = {
		{ "GB", "07400 123456", PHONE_OK, "447400123456", "mobile" },
		{ "US", "415 555 2671", PHONE_R_NOT_MOBILE, NULL,
		    "FIXED_LINE_OR_MOBILE not in sms_types" },
		{ "GB", "+881 6 1234 5678", PHONE_R_COUNTRY, NULL, "881" },
		{ "GB", "+881 6 1234", PHONE_R_INVALID, NULL,
		    "invalid before country" },
		{ "AU", "0491 570 156", PHONE_R_RANGE, NULL, "ACMA drama" },
		{ "AU", "+61 491 570 006", PHONE_R_RANGE, NULL, "ACMA drama" },
		{ "AU", "0412 345 678", PHONE_OK, "61412345678", "AU mobile" },
		{ "GB", "+44 20 7946 0018", PHONE_R_LANDLINE, NULL, "landline" },
		{ "GB", "0800 123 4567", PHONE_R_NOT_MOBILE, NULL, "toll free" },
		{ "DE", "0151 23456789", PHONE_R_COUNTRY, NULL, "+49 refused" },
	};
	static const struct tcase voip[] = {
		{ "FR", "09 12 34 56 78", PHONE_OK, "33912345678", "VOIP ok" },
		{ "FR", "06 12 34 56 78", PHONE_R_NOT_MOBILE, NULL,
		    "MOBILE not listed" },
		{ "GB", "020 7946 0018", PHONE_R_LANDLINE, NULL, "landline" },
	};
	struct numbering *nb;
	char *path, *err;

	nb = load_text("# test policy\nsms_types: [MOBILE]\n"
	    "refused_country_codes: [881, \"+49\"]\n"
	    "refused_ranges: [\"61491570\", +4477009]\n", &path, &err);
	CHECK(nb != NULL, "policy file refused: %s", err);
	if (nb != NULL)
		run_cases(nb, "policy", cases, sizeof cases / sizeof *cases, 0);
	numbering_free(nb);
	unlink(path);
	free(path);
	free(err);

	nb = load_text("sms_types:\n  - voip\nrefused_country_codes:\n"
	    "refused_ranges: ~\n", &path, &err);
	CHECK(nb != NULL, "null lists refused: %s", err);
	if (nb != NULL)
		run_cases(nb, "voip", voip, sizeof voip / sizeof *voip, 0);
	numbering_free(nb);
	unlink(path);
	free(path);
	free(err);
}

/* The shipped rules/numbering.yaml: $TOP/rules, ./rules, or beside the
 * test binary (build/rel/tests/ -> ../../../rules). */
static struct numbering *
load_shipped(const char *argv0)
{
	const char *top = getenv("TOP");
	char *path = NULL, *dir;
	struct numbering *nb = NULL;

	if (top != NULL && *top != '\0')
		path = xstrfmt("%s/rules/numbering.yaml", top);
	else if (access("rules/numbering.yaml", R_OK) == 0)
		path = xstrdup("rules/numbering.yaml");
	else {
		dir = xstrdup(argv0);
		if (strrchr(dir, '/') != NULL)
			*strrchr(dir, '/') = '\0';
		else
			strcpy(dir, ".");
		path = xstrfmt("%s/../../../rules/numbering.yaml", dir);
		free(dir);
	}
	nb = numbering_load(path);
	CHECK(nb != NULL, "shipped %s does not load", path);
	free(path);
	return nb;
}

/* Several threads normalise the whole table at once: same answers. */
static void *
thread_main(void *arg)
{
	const struct numbering *nb = arg;
	intptr_t bad = 0;
	int round;

	for (round = 0; round < 3; round++)
		bad += run_cases(nb, "thread", table,
		    sizeof table / sizeof *table, 1);
	return (void *)bad;
}

static void
test_threads(const struct numbering *nb)
{
	pthread_t th[4];
	void *res;
	intptr_t bad = 0;
	int i, started = 0;

	for (i = 0; i < 4; i++)
		if (pthread_create(&th[i], NULL, thread_main, UNCONST(nb)) == 0)
			started++;
	for (i = 0; i < started; i++) {
		pthread_join(th[i], &res);
		bad += (intptr_t)res;
	}
	CHECK(started == 4 && bad == 0, "threads: %d started, %ld wrong",
	    started, (long)bad);
}

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Normalisations per second over the whole table, one thread. */
static void
bench(const struct numbering *nb)
{
	size_t n = sizeof table / sizeof *table, i, done = 0;
	char out[20];
	const char *why;
	double t0 = now_sec(), t;

	do {
		for (i = 0; i < n; i++)
			phone_check(nb, table[i].text, table[i].region, out,
			    &why);
		done += n;
		t = now_sec() - t0;
	} while (t < 2.0);
	printf("bench: %zu normalisations in %.2f s: %.0f per second\n",
	    done, t, done / t);
}

int
main(int argc, char **argv)
{
	size_t ntable = sizeof table / sizeof *table;
	struct numbering *shipped;

	log_init("tst_phone", 0, 0);
	CHECK(ntable >= 150, "table has %zu numbers, want >= 150", ntable);
	run_cases(NULL, "table", table, ntable, 0);
	run_cases(NULL, "special", special, sizeof special / sizeof *special,
	    0);
	shipped = load_shipped(argv[0]);
	if (shipped != NULL) {
		run_cases(shipped, "table+rules", table, ntable, 0);
		run_cases(shipped, "special+rules", special,
		    sizeof special / sizeof *special, 0);
	}
	test_normalize_whys();
	test_portal_transposition();
	test_drama_range(shipped);
	test_parse_fields();
	test_numbering_errors();
	test_numbering_policy();
	test_threads(shipped);
	if (argc > 1 && strcmp(argv[1], "--bench") == 0)
		bench(shipped);
	numbering_free(shipped);

	printf("tst_phone: %zu table numbers, %zu special; %d checks, "
	    "%d failed\n", ntable, sizeof special / sizeof *special, check_count,
	    check_fail);
	return check_fail == 0 ? 0 : 1;
}
