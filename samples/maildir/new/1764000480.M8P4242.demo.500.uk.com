Return-Path: <support@northwind.example>
Authentication-Results: mx.500.uk.com; dkim=pass header.d=northwind.example; spf=neutral smtp.mailfrom=northwind.example
Received: from mail.northwind.example (mail.northwind.example [192.0.2.18])
	by mx.500.uk.com (Postfix) with ESMTPS id 4Zq0008X
	for <support@500.uk.com>; Mon, 23 Nov 2026 09:08:11 +0000 (GMT)
From: Northwind Support <support@northwind.example>
To: "SIP Trunk Plus Support" <support@500.uk.com>
Subject: Missing mobile number
Date: Mon, 23 Nov 2026 09:08:05 +0000
Message-ID: <1764000008.demo0008@northwind.example>
X-Mailer: Microsoft Outlook 16.0
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

Hello,

User ID: U3101
Name: Sam Taylor
Mobile: 020 7123 4567

Best regards,
Northwind Support
