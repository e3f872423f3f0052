# tests/bench/accounts.awk - the benchmarks' accounts file for `tfadesk db
# import`: n users (awk -v n=N), 1,000 a reseller with 2FA on, UK mobiles.
BEGIN {
	print "resellers:"
	per = 1000
	for (r = 0; r * per < n; r++) {
		printf "  - id: BR%d\n    name: Bench Reseller %d\n    twofa: true\n", r, r
		printf "    contacts: [noc%d@bench.example]\n    users:\n", r
		for (i = r * per; i < (r + 1) * per && i < n; i++)
			printf "      - {id: B%d, name: Bench User %d, phone: \"4474%08d\"}\n", i, i, i
	}
}
