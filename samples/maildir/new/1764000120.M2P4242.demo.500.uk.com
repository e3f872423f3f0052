Return-Path: <noc@acme.example>
Authentication-Results: mx.500.uk.com;
	dkim=pass (2048-bit key; unprotected) header.d=acme.example header.i=@acme.example header.s=s2026 header.b="kX3v+9Qa";
	spf=pass (mx.500.uk.com: domain of noc@acme.example designates 192.0.2.10 as permitted sender) smtp.mailfrom=noc@acme.example
Received: from mail.acme.example (mail.acme.example [192.0.2.12])
	by mx.500.uk.com (Postfix) with ESMTPS id 4Zq0002X
	for <support@500.uk.com>; Mon, 23 Nov 2026 09:02:11 +0000 (GMT)
From: John Carter <noc@acme.example>
To: "SIP Trunk Plus Support" <support@500.uk.com>
Subject: RE: 2FA Set Up
Date: Mon, 23 Nov 2026 09:02:05 +0000
Message-ID: <1764000002.demo0002@acme.example>
In-Reply-To: <tfadesk.1@500.uk.com>
References: <tfadesk.1@500.uk.com>
X-Mailer: Microsoft Outlook 16.0
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

Hi,

Here is the missing number:

  U1002 Raj Patel +44 7400 123457

Please switch 2FA on once it is in.

Kind regards,

John Carter
NOC Manager | Acme Telecom
Mobile: +44 7400 999888
https://acme.example

-----Original Message-----
From: SIP Trunk Plus Support <support@500.uk.com>
Sent: 23 November 2026 09:02
To: John Carter
Subject: Re: 2FA Set Up

We have not switched on two-factor authentication (2FA) ...
  U1002 Raj Patel
