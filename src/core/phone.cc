/*
 * phone.cc - the only C++ in tfadesk: a thin extern "C" adapter over
 * libphonenumber (Debian's libphonenumber-dev), in the way Kamailio's
 * phonenum module wraps it. Nothing C++ leaks through phone.h and no
 * exception crosses into C: every entry point catches everything.
 *
 * Thread safety: PhoneNumberUtil::GetInstance() is a lazily created
 * singleton and its methods are const and documented as thread-safe; the
 * rest of this file keeps no state, so phone_parse() may be called from
 * the verifier's HTTP threads.
 *
 * Input hygiene happens here, before libphonenumber sees the text:
 * libphonenumber is lenient on purpose (it accepts "0800 FLOWERS" and
 * "07400 123456 ext 12" as valid numbers), which is wrong for a number
 * that must receive an SMS code.
 */
#include <phonenumbers/phonenumberutil.h>

#include <strings.h>

#include <cctype>
#include <cstring>
#include <string>

#include "phone.h"
extern "C" {
#include "utf8.h"       /* the one UTF-8 decoder (utf8.c) */
}

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

namespace {

const char *const type_names[PHONE_NTYPES] = {
	"FIXED_LINE", "MOBILE", "FIXED_LINE_OR_MOBILE", "TOLL_FREE",
	"PREMIUM_RATE", "SHARED_COST", "VOIP", "PERSONAL_NUMBER", "PAGER",
	"UAN", "VOICEMAIL", "UNKNOWN",
};

enum phone_type
map_type(PhoneNumberUtil::PhoneNumberType t)
{
	switch (t) {
	case PhoneNumberUtil::FIXED_LINE: return PHONE_FIXED_LINE;
	case PhoneNumberUtil::MOBILE: return PHONE_MOBILE;
	case PhoneNumberUtil::FIXED_LINE_OR_MOBILE:
		return PHONE_FIXED_LINE_OR_MOBILE;
	case PhoneNumberUtil::TOLL_FREE: return PHONE_TOLL_FREE;
	case PhoneNumberUtil::PREMIUM_RATE: return PHONE_PREMIUM_RATE;
	case PhoneNumberUtil::SHARED_COST: return PHONE_SHARED_COST;
	case PhoneNumberUtil::VOIP: return PHONE_VOIP;
	case PhoneNumberUtil::PERSONAL_NUMBER: return PHONE_PERSONAL_NUMBER;
	case PhoneNumberUtil::PAGER: return PHONE_PAGER;
	case PhoneNumberUtil::UAN: return PHONE_UAN;
	case PhoneNumberUtil::VOICEMAIL: return PHONE_VOICEMAIL;
	default: return PHONE_UNKNOWN;
	}
}

/* Folds the Unicode look-alikes people paste from word processors and web
 * pages onto ASCII: spaces and joiners become ' ' (or vanish), dashes '-',
 * full-width digits, '+' and parentheses their ASCII selves. Anything
 * else non-ASCII is 0 (refused). */
int
fold(uint32_t cp)
{
	if (cp < 0x80)
		return (int)cp;
	switch (cp) {
	case 0x00a0: case 0x1680: case 0x202f: case 0x205f: case 0x3000:
		return ' ';                     /* no-break and other spaces */
	case 0x200b: case 0x200c: case 0x200d: case 0x2060: case 0xfeff:
	case 0x200e: case 0x200f:               /* zero-width, bidi marks */
		return ' ';
	case 0x2212: case 0xfe58: case 0xfe63: case 0xff0d: case 0x00ad:
		return '-';                     /* minus, small/wide hyphen */
	case 0xff0b: return '+';
	case 0xff08: return '(';
	case 0xff09: return ')';
	case 0xff0e: return '.';
	case 0xff0f: return '/';
	}
	if (cp >= 0x2000 && cp <= 0x200a)
		return ' ';                     /* en space ... hair space */
	if (cp >= 0x2010 && cp <= 0x2015)
		return '-';                     /* hyphen ... horizontal bar */
	if (cp >= 0xff10 && cp <= 0xff19)
		return (int)('0' + (cp - 0xff10)); /* full-width digits */
	return 0;
}

int
is_sep(int c)
{
	return c == ' ' || c == '\t' || c == '-' || c == '.' || c == '/' ||
	    c == '(' || c == ')' || c == '\r' || c == '\n';
}

/* After the digits of a number, does TAIL (folded ASCII) read as an
 * extension: "ext 12", "ext. 12", "extn 12", "extension 12", "x12",
 * "#12", ";ext=12", ", 12"? */
bool
is_extension(const std::string &tail)
{
	static const char *const marks[] = {
		";ext=", "extension", "extn", "ext", "x", "#", ",", ";", "~",
	};
	size_t i = 0, j;

	while (i < tail.size() && is_sep(tail[i]))
		i++;
	for (const char *m : marks) {
		size_t n = strlen(m);
		if (tail.size() - i < n ||
		    strncasecmp(tail.c_str() + i, m, n) != 0)
			continue;
		j = i + n;
		while (j < tail.size() && (is_sep(tail[j]) ||
		    tail[j] == ':' || tail[j] == '=' || tail[j] == '#'))
			j++;
		if (j == tail.size() || !isdigit((unsigned char)tail[j]))
			continue;
		while (j < tail.size() && (isdigit((unsigned char)tail[j]) ||
		    is_sep(tail[j])))
			j++;
		if (j == tail.size())
			return true;
	}
	return false;
}

/*
 * The written forms people type, reduced to '+'? digits. Separators
 * (spaces, dashes, dots, slashes, parentheses and their Unicode
 * look-alikes) go; a "tel:" prefix goes; "(0)" is kept as its digit but
 * its place is remembered in *PAREN0 (or -1) so that the caller can try
 * the number without it. Letters, extensions and other characters are
 * refused.
 */
enum phone_input
clean(const char *text, std::string &out, long *paren0)
{
	std::string ascii;
	size_t len = strlen(text), n, i, ndigits = 0;
	uint32_t cp;
	bool plus = false;
	int c;

	*paren0 = -1;
	out.clear();
	if (len > PHONE_MAX_INPUT)
		return PHONE_IN_TOO_LONG;
	for (i = 0; i < len; i += n) {
		if ((n = utf8_decode(text + i, len - i, &cp)) == 0 ||
		    (c = fold(cp)) == 0)
			return PHONE_IN_JUNK;
		ascii += (char)c;
	}
	i = 0;
	while (i < ascii.size() && is_sep(ascii[i]) && ascii[i] != '(')
		i++;
	if (ascii.size() - i >= 4 && strncasecmp(ascii.c_str() + i, "tel:",
	    4) == 0)
		i += 4;
	for (; i < ascii.size(); i++) {
		c = (unsigned char)ascii[i];
		if (isdigit(c)) {
			out += (char)c;
			ndigits++;
		} else if (c == '+') {
			if (plus || ndigits > 0)
				return PHONE_IN_JUNK;
			plus = true;
			out += '+';
		} else if (c == '(') {
			/* "(0)", "( 0 )": the trunk prefix in parentheses. */
			size_t j = i + 1;
			while (j < ascii.size() && ascii[j] == ' ')
				j++;
			if (ndigits > 0 && j < ascii.size() && ascii[j] == '0') {
				size_t k = j + 1;
				while (k < ascii.size() && ascii[k] == ' ')
					k++;
				if (k < ascii.size() && ascii[k] == ')' &&
				    *paren0 < 0) {
					*paren0 = (long)out.size();
					out += '0';
					ndigits++;
					i = k;
				}
			}
		} else if (is_sep(c)) {
			continue;
		} else if (ndigits > 0 && is_extension(ascii.substr(i))) {
			return PHONE_IN_EXTENSION;
		} else if (isalpha(c)) {
			/* "0800 FLOWERS" is a vanity number; "n/a" is none. */
			if (ascii.find_first_of("0123456789") ==
			    std::string::npos)
				return PHONE_IN_JUNK;
			return PHONE_IN_LETTERS;
		} else
			return PHONE_IN_JUNK;
	}
	if (ndigits == 0)
		return ascii.find_first_not_of(" \t") == std::string::npos ?
		    PHONE_IN_EMPTY : PHONE_IN_JUNK;
	if (ndigits > 17)
		return PHONE_IN_TOO_LONG;
	return PHONE_IN_OK;
}

/* One attempt: parse CAND with REGION; fills INFO and returns 0, or -1. */
int
attempt(const PhoneNumberUtil *u, const std::string &cand,
    const std::string &region, bool want_region, struct phone_info *info)
{
	PhoneNumber num;
	std::string e164, rc;

	/* With 'ZZ' only "+CC..." parses: spare libphonenumber the try. */
	if (region == "ZZ" && (cand.empty() || cand[0] != '+'))
		return -1;
	if (u->Parse(cand, region, &num) != PhoneNumberUtil::NO_PARSING_ERROR)
		return -1;
	/*
	 * IsValidNumber() is GetNumberType() != UNKNOWN: both find the
	 * number's region and match its patterns (each a regular expression
	 * run), so asking both does the work twice. The type alone says it.
	 */
	PhoneNumberUtil::PhoneNumberType t = u->GetNumberType(num);
	info->valid = t != PhoneNumberUtil::UNKNOWN;
	info->type = map_type(t);
	info->country_code = num.country_code();
	u->Format(num, PhoneNumberUtil::E164, &e164);
	if (!e164.empty() && e164[0] == '+')
		e164.erase(0, 1);
	if (e164.size() < sizeof(info->e164))
		memcpy(info->e164, e164.c_str(), e164.size() + 1);
	else
		info->valid = 0;   /* cannot be a real number: 15 digits max */
	if (!want_region)
		return 0;
	u->GetRegionCodeForNumber(num, &rc);
	if (rc.size() == 2 && rc != "ZZ")
		memcpy(info->region, rc.c_str(), 3);
	return 0;
}

void
info_reset(struct phone_info *info, enum phone_input in)
{
	memset(info, 0, sizeof(*info));
	info->type = PHONE_UNKNOWN;
	info->input = in;
}

int
parse(const char *text, const char *default_region, bool want_region,
    struct phone_info *info)
{
	const PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
	std::string cleaned, cands[5], region, own;
	struct phone_info first, tmp;
	long paren0;
	size_t ncand = 0, i, nd;
	bool have_first = false, bare;

	info_reset(info, PHONE_IN_OK);
	if (text == NULL) {
		info->input = PHONE_IN_EMPTY;
		return -1;
	}
	if ((info->input = clean(text, cleaned, &paren0)) != PHONE_IN_OK)
		return -1;
	if (default_region != NULL)
		for (i = 0; i < 2 && default_region[i] != '\0'; i++)
			region += (char)toupper(
			    (unsigned char)default_region[i]);
	if (region.size() != 2)
		region = "ZZ";     /* "unknown": only +CC numbers parse */

	/*
	 * Candidates in order; the first valid one wins, else the first
	 * that parsed is reported (as invalid). libphonenumber itself copes
	 * with the default region's international prefix, the trunk 0 and
	 * most "(0)" forms; the others cover what it does not:
	 *  1. as typed;
	 *  2. without the "(0)": "+1 (0) 415 ..." (while "+39 (0)6 ..." in
	 *     Italy, where the 0 belongs to the number, succeeds at 1);
	 *  3. "00" or "011" as the international prefix whatever the
	 *     default region ("0044 ..." typed with a US default);
	 *  4. E.164 digits without their '+' ("447400123456") when not
	 *     valid in the default region. When those digits start with the
	 *     default region's own country code they are tried first: with
	 *     DE, "4915123456789" is +49 151 ..., not a landline in Leer
	 *     (0491) written without its trunk 0, as libphonenumber reads it.
	 */
	nd = cleaned.size();
	bare = cleaned[0] >= '1' && cleaned[0] <= '9' && nd >= 11 && nd <= 15;
	own = std::to_string(u->GetCountryCodeForRegion(region));
	if (bare && own != "0" && cleaned.compare(0, own.size(), own) == 0)
		cands[ncand++] = "+" + cleaned;
	cands[ncand++] = cleaned;
	if (paren0 >= 0)
		cands[ncand++] = std::string(cleaned).erase((size_t)paren0, 1);
	if (cleaned.compare(0, 3, "011") == 0)
		cands[ncand++] = "+" + cleaned.substr(3);
	else if (cleaned.compare(0, 2, "00") == 0)
		cands[ncand++] = "+" + cleaned.substr(2);
	if (bare && cands[0][0] != '+')
		cands[ncand++] = "+" + cleaned;

	for (i = 0; i < ncand; i++) {
		info_reset(&tmp, PHONE_IN_OK);
		if (attempt(u, cands[i], region, want_region, &tmp) != 0)
			continue;
		if (tmp.valid) {
			*info = tmp;
			return 0;
		}
		if (!have_first) {
			first = tmp;
			have_first = true;
		}
	}
	if (!have_first) {
		info->input = PHONE_IN_UNPARSED;
		return -1;
	}
	*info = first;
	return 0;
}

} // namespace

extern "C" {

int
phone_parse(const char *text, const char *default_region,
    struct phone_info *info)
{
	try {
		return parse(text, default_region, true, info);
	} catch (...) {
		/* bad_alloc or anything from the library: not a number. */
		info_reset(info, PHONE_IN_UNPARSED);
		return -1;
	}
}

int
phone_parse_noregion(const char *text, const char *default_region,
    struct phone_info *info)
{
	try {
		return parse(text, default_region, false, info);
	} catch (...) {
		info_reset(info, PHONE_IN_UNPARSED);
		return -1;
	}
}

const char *
phone_type_name(enum phone_type t)
{
	if ((int)t < 0 || t >= PHONE_NTYPES)
		return "UNKNOWN";
	return type_names[t];
}

int
phone_type_parse(const char *name, enum phone_type *t)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < PHONE_NTYPES; i++)
		if (strcasecmp(name, type_names[i]) == 0) {
			*t = (enum phone_type)i;
			return 0;
		}
	return -1;
}

} // extern "C"
