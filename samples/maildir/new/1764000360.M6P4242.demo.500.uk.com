Return-Path: <ops@acme.example>
Authentication-Results: mx.500.uk.com;
	dkim=pass (2048-bit key; unprotected) header.d=acme.example header.i=@acme.example header.s=s2026 header.b="kX3v+9Qa";
	spf=pass (mx.500.uk.com: domain of noc@acme.example designates 192.0.2.10 as permitted sender) smtp.mailfrom=noc@acme.example
Received: from mail.acme.example (mail.acme.example [192.0.2.16])
	by mx.500.uk.com (Postfix) with ESMTPS id 4Zq0006X
	for <support@500.uk.com>; Mon, 23 Nov 2026 09:06:11 +0000 (GMT)
From: Acme Ops Team <ops@acme.example>
To: "SIP Trunk Plus Support" <support@500.uk.com>
Subject: Mobile numbers for Widget Ltd
Date: Mon, 23 Nov 2026 09:06:05 +0000
Message-ID: <1764000006.demo0006@acme.example>
X-Mailer: Thunderbird
MIME-Version: 1.0
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

<html><body><p>Hello support,</p><p>Please register these numbers for 2FA:<=
/p>
<table border=3D"1" cellpadding=3D"4"><tr><th>User ID</th><th>Name</th><th>=
Mobile</th></tr>
<tr><td>U2003</td><td>Zoe Nunez</td><td>+44 (0)7400 123459</td></tr>
<tr><td>U2002</td><td>Brown, Alice</td><td>07400 123456</td></tr></table>
<p>Many thanks,<br>Acme Ops<br>Tel: 0161 234 5678</p></body></html>
