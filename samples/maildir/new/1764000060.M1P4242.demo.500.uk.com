Return-Path: <noc@acme.example>
Authentication-Results: mx.500.uk.com;
	dkim=pass (2048-bit key; unprotected) header.d=acme.example header.i=@acme.example header.s=s2026 header.b="kX3v+9Qa";
	spf=pass (mx.500.uk.com: domain of noc@acme.example designates 192.0.2.10 as permitted sender) smtp.mailfrom=noc@acme.example
Received: from mail.acme.example (mail.acme.example [192.0.2.11])
	by mx.500.uk.com (Postfix) with ESMTPS id 4Zq0001X
	for <support@500.uk.com>; Mon, 23 Nov 2026 09:01:11 +0000 (GMT)
From: John Carter <noc@acme.example>
To: "SIP Trunk Plus Support" <support@500.uk.com>
Subject: 2FA Set Up
Date: Mon, 23 Nov 2026 09:01:05 +0000
Message-ID: <1764000001.demo0001@acme.example>
X-Mailer: Microsoft Outlook 16.0
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

Hello,

We confirm that we would like 2FA switched on for our reseller account Acme=
 Telecom (R100).

Kind regards,

John Carter
NOC Manager | Acme Telecom
Mobile: +44 7400 999888
https://acme.example
