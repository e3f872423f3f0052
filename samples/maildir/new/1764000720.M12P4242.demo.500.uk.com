Return-Path: <noc@acme.example>
Authentication-Results: mx.500.uk.com;
	dkim=pass (2048-bit key; unprotected) header.d=acme.example header.i=@acme.example header.s=s2026 header.b="kX3v+9Qa";
	spf=pass (mx.500.uk.com: domain of noc@acme.example designates 192.0.2.10 as permitted sender) smtp.mailfrom=noc@acme.example
Received: from mail.acme.example (mail.acme.example [192.0.2.22])
	by mx.500.uk.com (Postfix) with ESMTPS id 4Zq0012X
	for <support@500.uk.com>; Mon, 23 Nov 2026 09:12:11 +0000 (GMT)
From: John Carter <noc@acme.example>
To: "SIP Trunk Plus Support" <support@500.uk.com>
Subject: Automatic reply: 2FA Set Up
Date: Mon, 23 Nov 2026 09:12:05 +0000
Message-ID: <1764000012.demo0012@acme.example>
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
X-Mailer: Microsoft Outlook 16.0
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

I am out of the office until Monday.
