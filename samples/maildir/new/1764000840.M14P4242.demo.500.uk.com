Return-Path: <noc@acme.example>
Authentication-Results: mx.500.uk.com;
	dkim=pass (2048-bit key; unprotected) header.d=acme.example header.i=@acme.example header.s=s2026 header.b="kX3v+9Qa";
	spf=pass (mx.500.uk.com: domain of noc@acme.example designates 192.0.2.10 as permitted sender) smtp.mailfrom=noc@acme.example
Received: from mail.acme.example (mail.acme.example [192.0.2.24])
	by mx.500.uk.com (Postfix) with ESMTPS id 4Zq0014X
	for <support@500.uk.com>; Mon, 23 Nov 2026 09:14:11 +0000 (GMT)
From: John Carter <noc@acme.example>
To: "SIP Trunk Plus Support" <support@500.uk.com>
Subject: Missing mobile numbers
Date: Mon, 23 Nov 2026 09:14:05 +0000
Message-ID: <1764000014.demo0014@acme.example>
X-Mailer: Microsoft Outlook 16.0
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

Hello,

User ID, Name, Mobile
U1001, Jane Smith, 07890 123456
U2001, Robert Jones, 07400 123462

User ID: U2003
Name: Zo=C3=AB N=C3=BA=C3=B1ez
(her mobile is the same as mine, see below)

Kind regards,

John Carter
NOC Manager | Acme Telecom
Mobile: +44 7400 999888
https://acme.example
